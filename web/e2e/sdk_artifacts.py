"""A real script logging artifacts through the Python SDK, for the browser tests of the
artifact pages (e2e/artifacts.mjs): two versions of a dataset (v1 changes one file, alias
`best` on v0, which also gets a 7-day TTL) and a consumer run that uses `dataset:best`.

usage: sdk_artifacts.py   (server and key come from TRACKWAY_BASE_URL/_API_KEY)
"""

import datetime

import trackway


def produce(text: str, aliases: list, ttl=None) -> None:
    run = trackway.init(project="arts", name=f"producer-{text}")
    art = trackway.Artifact("dataset", type="dataset", metadata={"rows": 3, "source": text})
    art.ttl = ttl
    with art.new_file("readme.txt", mode="w") as f:
        f.write(f"hello {text}\n")
    with art.new_file("data/values.csv", mode="w") as f:
        f.write("a,b\n1,2\n")
    run.log_artifact(art, aliases=aliases).wait(timeout=60)
    trackway.finish()


def main() -> None:
    produce("one", ["best"], datetime.timedelta(days=7))
    produce("two", [])
    run = trackway.init(project="arts", name="consumer")
    run.use_artifact("dataset:best").download(root="got")
    trackway.finish()


if __name__ == "__main__":
    main()
