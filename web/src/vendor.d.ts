// plotly.js ships its prebuilt bundles without types; the Plotly panel uses only newPlot.
declare module "plotly.js-basic-dist-min";
// svgcanvas (a maintained canvas2svg) has no types: a 2D context that builds an SVG document.
declare module "svgcanvas" {
  export class Context {
    constructor(o: { width: number; height: number });
    getSerializedSvg(fixNamedEntities?: boolean): string;
  }
}
