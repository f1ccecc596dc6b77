/*
 * Drawing pad for /mnist: draw with a mouse, pen or finger on <canvas id="mnist-pad">; while drawing,
 * at most every 150 ms (and once when the stroke ends), the pad is reduced to a 56x56 grayscale
 * array (0-255, white ink on black, as in MNIST) and written into the dcc.Store "mnist-drawing".
 * The server crops, scales and centres it like an MNIST digit. Listeners are delegated from the
 * document, so they work whenever the page (and its canvas) is rendered.
 */
(function () {
    "use strict";
    const PAD_ID = "mnist-pad";
    const CLEAR_ID = "mnist-pad-clear";
    const STORE_ID = "mnist-drawing";
    const SIDE = 56;            // sent resolution: small JSON, still twice MNIST's
    const THROTTLE_MS = 150;    // live updates while drawing, without flooding the server
    const PEN_FRACTION = 1 / 13; // pen width relative to the pad, close to MNIST's stroke width

    let active = null;  // {canvas, last: {x, y}, pointerId} while a stroke is in progress
    let timer = null;
    let sequence = 0;

    function padFrom(target) {
        return target && target.id === PAD_ID && target.getContext ? target : null;
    }

    function pointOf(canvas, event) {
        const rect = canvas.getBoundingClientRect();
        return {
            x: (event.clientX - rect.left) * canvas.width / rect.width,
            y: (event.clientY - rect.top) * canvas.height / rect.height,
        };
    }

    function drawSegment(canvas, from, to) {
        const ctx = canvas.getContext("2d");
        ctx.strokeStyle = "#ffffff";
        ctx.fillStyle = "#ffffff";
        ctx.lineWidth = canvas.width * PEN_FRACTION;
        ctx.lineCap = "round";
        ctx.lineJoin = "round";
        ctx.beginPath();
        ctx.moveTo(from.x, from.y);
        ctx.lineTo(to.x + 0.01, to.y + 0.01);  // a zero-length line draws nothing; a tap should draw a dot
        ctx.stroke();
    }

    function readPixels(canvas) {
        const small = document.createElement("canvas");
        small.width = SIDE;
        small.height = SIDE;
        const ctx = small.getContext("2d");
        ctx.imageSmoothingEnabled = true;
        ctx.imageSmoothingQuality = "high";
        ctx.drawImage(canvas, 0, 0, SIDE, SIDE);
        const rgba = ctx.getImageData(0, 0, SIDE, SIDE).data;
        const rows = [];
        let ink = 0;
        for (let r = 0; r < SIDE; r++) {
            const row = new Array(SIDE);
            for (let c = 0; c < SIDE; c++) {
                const i = 4 * (r * SIDE + c);
                // White ink over a transparent pad: brightness is the ink's coverage (alpha).
                row[c] = Math.round(rgba[i] * rgba[i + 3] / 255);
                ink += row[c];
            }
            rows.push(row);
        }
        return ink > 0 ? rows : null;
    }

    function send(canvas) {
        if (timer !== null) {
            clearTimeout(timer);
            timer = null;
        }
        const dc = window.dash_clientside;
        if (!dc || !dc.set_props) {
            return;
        }
        const pixels = readPixels(canvas);
        sequence += 1;
        dc.set_props(STORE_ID, {data: pixels ? {pixels: pixels, sequence: sequence} : null});
    }

    function schedule(canvas) {
        if (timer === null) {
            timer = setTimeout(function () {
                timer = null;
                send(canvas);
            }, THROTTLE_MS);
        }
    }

    document.addEventListener("pointerdown", function (event) {
        const canvas = padFrom(event.target);
        if (!canvas) {
            return;
        }
        event.preventDefault();
        if (canvas.setPointerCapture) {
            canvas.setPointerCapture(event.pointerId);
        }
        const point = pointOf(canvas, event);
        active = {canvas: canvas, last: point, pointerId: event.pointerId};
        drawSegment(canvas, point, point);
        schedule(canvas);
    });

    document.addEventListener("pointermove", function (event) {
        if (!active || event.pointerId !== active.pointerId) {
            return;
        }
        event.preventDefault();
        const point = pointOf(active.canvas, event);
        drawSegment(active.canvas, active.last, point);
        active.last = point;
        schedule(active.canvas);
    });

    function endStroke(event) {
        if (!active || event.pointerId !== active.pointerId) {
            return;
        }
        const canvas = active.canvas;
        active = null;
        send(canvas);  // the finished stroke, right away
    }

    document.addEventListener("pointerup", endStroke);
    document.addEventListener("pointercancel", endStroke);

    document.addEventListener("click", function (event) {
        const button = event.target && event.target.closest ? event.target.closest("#" + CLEAR_ID) : null;
        if (!button) {
            return;
        }
        const canvas = document.getElementById(PAD_ID);
        if (canvas) {
            canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
            send(canvas);
        }
    });
})();
