// plotly.js ships its prebuilt bundles without types; the Plotly panel uses only newPlot.
declare module "plotly.js-basic-dist-min";
