/*
 * /mnist controls answered in the browser: each only turns a click into a store value, so a server
 * round trip would add latency and load without adding anything. The server still validates what
 * these write (an unknown digit or neuron is refused where the page is computed).
 */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    mnist_controls: {
        /* A clicked thumbnail becomes the input {source: "gallery", index}; thumbnails appearing are ignored. */
        chooseGalleryDigit: function () {
            const dc = window.dash_clientside;
            const clicked = (dc.callback_context.triggered || []).filter(function (t) { return t.value; });
            if (clicked.length !== 1) {
                return [dc.no_update, dc.no_update, dc.no_update];
            }
            const propId = clicked[0].prop_id;
            const index = JSON.parse(propId.slice(0, propId.lastIndexOf("."))).index;
            return [{source: "gallery", index: index}, "", false];
        },

        /* A clicked neuron marker (its customdata starts with layer, index) or table row becomes the selection. */
        selectNeuron: function (clickData, activeCell, traceIndex) {
            const dc = window.dash_clientside;
            const fromGraph = (dc.callback_context.triggered || []).some(function (t) {
                return t.prop_id.endsWith(".clickData");
            });
            let pair = null;
            if (fromGraph) {
                const point = clickData && clickData.points && clickData.points[0];
                const custom = point && point.customdata;
                pair = custom && (Array.isArray(custom) || ArrayBuffer.isView(custom)) ? Array.from(custom).slice(0, 2) : null;
            } else if (activeCell && typeof activeCell.row_id === "string") {
                pair = activeCell.row_id.split("-");
            }
            const numbers = (pair || []).map(Number);
            const sizes = (traceIndex && traceIndex.sizes) || [];
            const known = numbers.length === 2 && numbers.every(Number.isInteger) && numbers[0] >= 0
                && numbers[0] < sizes.length && numbers[1] >= 0 && numbers[1] < sizes[numbers[0]];
            if (!known) {
                return [dc.no_update, dc.no_update];
            }
            // The table's cell is released so that clicking the same row again fires again.
            return [numbers, fromGraph ? dc.no_update : null];
        },

        /* The checkpoint reaches the gallery only when its captions depend on it (misclassified filter on). */
        gateGalleryCheckpoint: function (position, onlyMisclassified) {
            return onlyMisclassified ? position : window.dash_clientside.no_update;
        },
    },
});
