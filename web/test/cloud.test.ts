import { describe, expect, it } from "vitest";
import { MAX_POINTS, normalise, parseCloud } from "../src/lib/cloud";

const enc = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;

describe("3D and molecule files", () => {
  it("reads wandb's point rows: plain, category and rgb, and the lidar dict", () => {
    const c = parseCloud("pts.json", enc(JSON.stringify([[0, 0, 0], [1, 2, 3, 1], [4, 5, 6, 255, 0, 0]])))!;
    expect(c.n).toBe(3);
    expect([...c.xyz.slice(3, 6)]).toEqual([1, 2, 3]);
    expect([...c.rgb.slice(6, 9)]).toEqual([255, 0, 0]);
    expect(parseCloud("pts.json", enc(JSON.stringify({ type: "lidar/beta", points: [[1, 1, 1]] })))!.n).toBe(1);
  });
  it("thins huge clouds evenly to the cap", () => {
    const rows = Array.from({ length: MAX_POINTS * 2 + 1 }, (_, i) => [i, 0, 0]);
    const c = parseCloud("pts.json", enc(JSON.stringify(rows)))!;
    expect(c.n).toBeLessThanOrEqual(MAX_POINTS + 1);
    expect(c.xyz[0]).toBe(0);
  });
  it("reads OBJ vertices, ASCII and binary STL", () => {
    expect(parseCloud("obj", enc("# cube\nv 0 0 0\nv 1 0 0\nvn 0 0 1\nv 0 1 0\nf 1 2 3\n"))!.n).toBe(3);
    expect(parseCloud("stl", enc("solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid"))!.n).toBe(3);
    const bin = new ArrayBuffer(84 + 50);
    const dv = new DataView(bin);
    dv.setUint32(80, 1, true);
    [1, 2, 3, 4, 5, 6, 7, 8, 9].forEach((v, i) => dv.setFloat32(84 + 12 + i * 4, v, true));
    const stl = parseCloud("stl", bin)!;
    expect([...stl.xyz]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  it("reads atoms of PDB, SDF and MOL2, coloured by element", () => {
    const pdb = "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\nATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C\nTER\n";
    const p = parseCloud("pdb", enc(pdb))!;
    expect(p.n).toBe(2);
    expect(p.xyz[0]).toBeCloseTo(11.104);
    expect([...p.rgb.slice(0, 3)]).toEqual([48, 80, 248]);
    const sdf = "water\n  x\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n    0.0000    0.0000    0.0000 O   0\n    0.7570    0.5860    0.0000 H   0\n   -0.7570    0.5860    0.0000 H   0\nM  END\n";
    expect(parseCloud("sdf", enc(sdf))!.n).toBe(3);
    const mol2 = "@<TRIPOS>MOLECULE\nw\n@<TRIPOS>ATOM\n 1 O1 0.0 0.0 0.0 O.3 1 W 0\n 2 H1 0.7 0.5 0.0 H 1 W 0\n@<TRIPOS>BOND\n 1 1 2 1\n";
    expect(parseCloud("mol2", enc(mol2))!.n).toBe(2);
    expect(parseCloud("glb", enc("glTF"))).toBeNull();
  });
  it("frames any units in the unit sphere", () => {
    const c = parseCloud("pts.json", enc(JSON.stringify([[1000, 1000, 1000], [1010, 1000, 1000]])))!;
    expect([...normalise(c)]).toEqual([-1, 0, 0, 1, 0, 0]);
  });
});
