// Points to draw in 3D, read from the files `Object3D` and `Molecule` store (docs/media-api.md):
// point clouds (`pts.json`, wandb's lidar dict), OBJ and STL meshes (their vertices) and
// molecules in PDB/PQR, SDF and MOL2 (their atoms, coloured by element). Formats with no reader
// here (glTF, GLB, Babylon, mmCIF, GRO, MMTF) return null and are offered for download.

export interface Cloud { xyz: Float32Array; rgb: Uint8Array; n: number }

/** Points kept at most (evenly thinned beyond), so a huge scan never freezes the page. */
export const MAX_POINTS = 100_000;

const CPK: Record<string, [number, number, number]> = {
  H: [230, 230, 230], C: [80, 80, 80], N: [48, 80, 248], O: [255, 13, 13], S: [230, 200, 40], P: [255, 128, 0],
  F: [144, 224, 80], CL: [31, 240, 31], BR: [166, 41, 41], I: [148, 0, 148], FE: [224, 102, 51], MG: [138, 255, 0],
};
const DEFAULT_RGB: [number, number, number] = [47, 111, 222];

class Builder {
  xyz: number[] = []; rgb: number[] = [];
  add(x: number, y: number, z: number, c: [number, number, number] = DEFAULT_RGB) {
    if (![x, y, z].every(Number.isFinite)) return;
    this.xyz.push(x, y, z); this.rgb.push(c[0], c[1], c[2]);
  }
  done(): Cloud {
    const n = this.xyz.length / 3, step = Math.max(1, Math.ceil(n / MAX_POINTS)), m = Math.ceil(n / step);
    const xyz = new Float32Array(m * 3), rgb = new Uint8Array(m * 3);
    for (let i = 0, j = 0; i < n; i += step, j++) for (let k = 0; k < 3; k++) { xyz[j * 3 + k] = this.xyz[i * 3 + k]; rgb[j * 3 + k] = this.rgb[i * 3 + k]; }
    return { xyz, rgb, n: m };
  }
}

/** wandb's point rows: [x,y,z], [x,y,z,category], [x,y,z,r,g,b]. */
function pointRow(b: Builder, p: unknown) {
  if (!Array.isArray(p) || p.length < 3) return;
  const [x, y, z] = p.map(Number);
  if (p.length >= 6) b.add(x, y, z, [Number(p[3]), Number(p[4]), Number(p[5])]);
  else if (p.length === 4) b.add(x, y, z, categoryColor(Number(p[3])));
  else b.add(x, y, z);
}

function categoryColor(c: number): [number, number, number] {
  const palette: [number, number, number][] = [[47, 111, 222], [230, 85, 13], [49, 163, 84], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127]];
  return palette[Math.abs(Math.trunc(c)) % palette.length];
}

function fromPoints(text: string): Cloud | null {
  const v = JSON.parse(text) as unknown;
  const rows = Array.isArray(v) ? v : v && typeof v === "object" ? (v as { points?: unknown }).points : null;
  if (!Array.isArray(rows)) return null;
  const b = new Builder();
  for (const p of rows) pointRow(b, p);
  return b.done();
}

function fromObj(text: string): Cloud {
  const b = new Builder();
  for (const line of text.split("\n")) if (line.startsWith("v ")) { const [, x, y, z] = line.trim().split(/\s+/).map(Number); b.add(x, y, z); }
  return b.done();
}

function fromStl(bytes: ArrayBuffer): Cloud {
  const b = new Builder();
  const head = new TextDecoder().decode(bytes.slice(0, Math.min(bytes.byteLength, 1024)));
  const dv = new DataView(bytes);
  const tris = bytes.byteLength >= 84 ? dv.getUint32(80, true) : 0;
  if (bytes.byteLength === 84 + tris * 50 && tris > 0) {
    for (let t = 0; t < tris; t++) for (let v = 0; v < 3; v++) {
      const o = 84 + t * 50 + 12 + v * 12;
      b.add(dv.getFloat32(o, true), dv.getFloat32(o + 4, true), dv.getFloat32(o + 8, true));
    }
  } else if (head.trimStart().startsWith("solid")) {
    for (const m of new TextDecoder().decode(bytes).matchAll(/vertex\s+(\S+)\s+(\S+)\s+(\S+)/g)) b.add(Number(m[1]), Number(m[2]), Number(m[3]));
  }
  return b.done();
}

const element = (s: string) => CPK[s.trim().toUpperCase()] ?? CPK[s.trim().slice(0, 1).toUpperCase()] ?? DEFAULT_RGB;

function fromPdb(text: string): Cloud {
  const b = new Builder();
  for (const l of text.split("\n")) {
    if (!l.startsWith("ATOM") && !l.startsWith("HETATM")) continue;
    const el = l.slice(76, 78).trim() || l.slice(12, 16).trim().replace(/[^A-Za-z]/g, "").slice(0, 1);
    b.add(Number(l.slice(30, 38)), Number(l.slice(38, 46)), Number(l.slice(46, 54)), element(el));
  }
  return b.done();
}

function fromSdf(text: string): Cloud {
  const b = new Builder();
  const lines = text.split("\n");
  const atoms = Number(lines[3]?.slice(0, 3));
  for (let i = 0; i < atoms; i++) {
    const f = (lines[4 + i] ?? "").trim().split(/\s+/);
    b.add(Number(f[0]), Number(f[1]), Number(f[2]), element(f[3] ?? ""));
  }
  return b.done();
}

function fromMol2(text: string): Cloud {
  const b = new Builder();
  const block = text.split("@<TRIPOS>ATOM")[1]?.split("@<TRIPOS>")[0] ?? "";
  for (const l of block.split("\n")) {
    const f = l.trim().split(/\s+/);
    if (f.length >= 6) b.add(Number(f[2]), Number(f[3]), Number(f[4]), element(f[5].split(".")[0]));
  }
  return b.done();
}

/** The points of a stored 3D/molecule file, or null when this format has no reader here. */
export function parseCloud(format: string, bytes: ArrayBuffer): Cloud | null {
  const text = () => new TextDecoder().decode(bytes);
  switch (format.toLowerCase()) {
    case "pts.json": return fromPoints(text());
    case "obj": return fromObj(text());
    case "stl": return fromStl(bytes);
    case "pdb": case "pqr": return fromPdb(text());
    case "sdf": case "sd": return fromSdf(text());
    case "mol2": return fromMol2(text());
    default: return null;
  }
}

/** Centre and scale so the cloud fits the unit sphere (for a view that frames it whatever its units). */
export function normalise(c: Cloud): Float32Array {
  const out = new Float32Array(c.n * 3);
  const mid = [0, 1, 2].map((k) => { let lo = Infinity, hi = -Infinity; for (let i = 0; i < c.n; i++) { const v = c.xyz[i * 3 + k]; lo = Math.min(lo, v); hi = Math.max(hi, v); } return c.n ? (lo + hi) / 2 : 0; });
  let r = 0;
  for (let i = 0; i < c.n; i++) for (let k = 0; k < 3; k++) { out[i * 3 + k] = c.xyz[i * 3 + k] - mid[k]; }
  for (let i = 0; i < c.n; i++) r = Math.max(r, Math.hypot(out[i * 3], out[i * 3 + 1], out[i * 3 + 2]));
  if (r > 0) for (let i = 0; i < out.length; i++) out[i] /= r;
  return out;
}
