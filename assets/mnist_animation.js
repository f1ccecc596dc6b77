/*
 * Forward-pass animation of the /mnist 3D view, entirely in the browser: the layers light up one
 * after the other (inputs, hidden 1, hidden 2, outputs) with the edges that feed them, by changing
 * trace opacities on the rendered graph. It needs no data from the server beyond the trace index.
 */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    mnist: Object.assign({}, (window.dash_clientside || {}).mnist, {
        /* Play the animation; returns true (button disabled) and re-enables the button at the end. */
        playForwardPass: function (nClicks, traceIndex) {
            const graph = document.querySelector("#mnist-graph .js-plotly-plot");
            if (!graph || !window.Plotly || !traceIndex || !traceIndex.neurons) {
                return false;
            }
            const neurons = traceIndex.neurons;
            const edges = traceIndex.edges;  // edges[k - 1]: the traces of edges into layer k
            const DIM_NEURONS = 0.08;
            const DIM_EDGES = 0.0;
            const EDGE_OPACITY = 0.75;  // the figure's own edge opacity, restored at the end
            const STEP_MS = 900;

            function showUpTo(layer) {
                const traces = [];
                const opacity = [];
                neurons.forEach(function (t, k) {
                    traces.push(t);
                    opacity.push(k <= layer ? 1 : DIM_NEURONS);
                });
                edges.forEach(function (group, j) {
                    group.forEach(function (t) {
                        traces.push(t);
                        opacity.push(j + 1 <= layer ? EDGE_OPACITY : DIM_EDGES);
                    });
                });
                return window.Plotly.restyle(graph, {opacity: opacity}, traces);
            }

            function finish() {
                const dc = window.dash_clientside;
                if (dc && dc.set_props) {
                    dc.set_props("mnist-animate", {disabled: false});
                }
            }

            let layer = 0;
            function next() {
                Promise.resolve(showUpTo(layer)).then(function () {
                    layer += 1;
                    if (layer < neurons.length) {
                        setTimeout(next, STEP_MS);
                    } else {
                        finish();
                    }
                }, finish);
            }
            next();
            return true;
        }
    })
});
