-- The run table's config/summary reads go through trackway_json(text) instead of `::jsonb`: the
-- same value, but a function the planner is told is expensive (parsing a run's JSON costs
-- ~10-20 µs, a built-in cast is priced like an addition). With the true price it answers a
-- filter from the key indexes (bitmap AND/OR) rather than parsing thousands of runs' JSON to
-- test a condition. PL/pgSQL, because a SQL function would be inlined and lose its price.
-- IMMUTABLE as the cast is: key indexes are built on it.
CREATE FUNCTION trackway_json(t text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000
    AS $$ BEGIN RETURN t::jsonb; END $$;
-- A key's value within MongoDB's number bracket (JSON numbers; tagged numbers {"$f":"Infinity"},
-- {"$int":"..."} by value; NaN and every other type: NULL) and within the string bracket. One
-- call each, so a condition reads the key's JSON once, and key indexes are built on them.
CREATE FUNCTION trackway_num(v jsonb) RETURNS float8
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10
    AS $$
BEGIN
    IF jsonb_typeof(v) = 'number' THEN
        RETURN v::float8;
    ELSIF jsonb_typeof(v) = 'object' THEN
        RETURN CASE v ->> '$f' WHEN 'Infinity' THEN 'Infinity'::float8 WHEN '-Infinity' THEN '-Infinity'::float8
               ELSE (v ->> '$int')::float8 END;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION trackway_str(v jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10
    AS $$
BEGIN
    IF jsonb_typeof(v) = 'string' THEN
        RETURN v #>> '{}';
    END IF;
    RETURN NULL;
END $$;
-- Key indexes on the old expressions no longer match any query: drop them (queries recreate
-- what they need) so they do not count against the bound on key indexes.
DO $$
DECLARE i record;
BEGIN
    FOR i IN SELECT indexname FROM pg_indexes WHERE tablename = 'runs' AND indexname LIKE 'kx\_%' LOOP
        EXECUTE format('DROP INDEX %I', i.indexname);
    END LOOP;
END $$;
