/*
 * Clientside forward-pass player, shared by the pages.
 *
 * A page precomputes its animation on the server into a dcc.Store:
 *   {count: n, updates: [{traceIndex: {"marker.color": [...], "text": [...], "opacity": x}}, ...],
 *    captions: [{title: "...", lines: ["...", ...]}, ...]}
 * Every step sets every animated property, so any step can follow any other. The functions below
 * only step through that data and copy it onto the figure: no server round trip per frame.
 */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    singularity: Object.assign({}, (window.dash_clientside || {}).singularity, {
        /* Next (step, interval disabled) from whichever control fired: play, pause, forward, back, reset, tick. */
        controlAnimation: function (play, pause, forward, back, reset, ticks, step, anim, ids) {
            const count = anim && anim.count ? anim.count : 1;
            const last = count - 1;
            const current = (step === null || step === undefined) ? last : Math.min(Math.max(step, 0), last);
            const ctx = window.dash_clientside.callback_context;
            const fired = ctx.triggered_id;
            const noUpdate = window.dash_clientside.no_update;
            if (fired === ids.play) {
                return [current >= last ? 0 : current, false];
            }
            if (fired === ids.pause) {
                return [noUpdate, true];
            }
            if (fired === ids.forward) {
                return [Math.min(current + 1, last), true];
            }
            if (fired === ids.back) {
                return [Math.max(current - 1, 0), true];
            }
            if (fired === ids.reset) {
                return [0, true];
            }
            if (fired === ids.interval) {
                const next = Math.min(current + 1, last);
                return [next, next >= last];
            }
            return [noUpdate, noUpdate];
        },

        /* Interval period in ms for a speed factor (1 = one step per second). */
        intervalForSpeed: function (speed) {
            const factor = speed && speed > 0 ? speed : 1;
            return Math.round(1000 / factor);
        },

        /* The figure with step `step`'s colours, labels and opacities applied (a shallow copy). */
        renderAnimationStep: function (step, anim, figure) {
            const noUpdate = window.dash_clientside.no_update;
            if (!anim || !anim.updates || !anim.updates.length || !figure || !figure.data) {
                return noUpdate;
            }
            const last = anim.updates.length - 1;
            const s = (step === null || step === undefined) ? last : Math.min(Math.max(step, 0), last);
            const update = anim.updates[s];
            const data = figure.data.slice();
            Object.keys(update).forEach(function (key) {
                const i = parseInt(key, 10);
                if (!data[i]) {
                    return;
                }
                const trace = Object.assign({}, data[i]);
                const props = update[key];
                Object.keys(props).forEach(function (path) {
                    const parts = path.split(".");
                    if (parts.length === 1) {
                        trace[path] = props[path];
                    } else {
                        // only one level deep is used (marker.color)
                        trace[parts[0]] = Object.assign({}, trace[parts[0]]);
                        trace[parts[0]][parts[1]] = props[path];
                    }
                });
                data[i] = trace;
            });
            return Object.assign({}, figure, {data: data});
        },

        /* Caption lines of a step and its "step i of n" label. */
        captionForStep: function (step, anim) {
            if (!anim || !anim.captions || !anim.captions.length) {
                return ["", ""];
            }
            const last = anim.captions.length - 1;
            const s = (step === null || step === undefined) ? last : Math.min(Math.max(step, 0), last);
            const caption = anim.captions[s];
            const lines = caption.lines.join("\n");
            return [caption.title + "\n" + lines, "step " + (s + 1) + " of " + anim.captions.length];
        }
    })
});
