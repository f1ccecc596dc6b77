// Say in the page when a chosen or dropped file is over the upload limit. dcc.Upload's max_size drops
// such files silently, so no server callback would ever run to explain it. The limit and the id of
// the message box come from data attributes on the element wrapping the upload.
(function () {
    function formatMegabytes(bytes) {
        return (bytes / 1e6).toFixed(1) + " MB";
    }

    function reportOversized(event) {
        const zone = event.target && event.target.closest ? event.target.closest("[data-max-bytes]") : null;
        if (!zone || !window.dash_clientside || !window.dash_clientside.set_props) {
            return;
        }
        const limit = Number(zone.dataset.maxBytes);
        const files = (event.dataTransfer && event.dataTransfer.files) || event.target.files || [];
        for (const file of files) {
            if (file.size > limit) {
                window.dash_clientside.set_props(zone.dataset.errorId, {
                    children: "The file " + file.name + " is too large: " + formatMegabytes(file.size) +
                        "; the limit is " + formatMegabytes(limit) + ". Try a smaller photo or a screenshot.",
                    is_open: true,
                });
            }
        }
    }

    document.addEventListener("change", reportOversized, true);
    document.addEventListener("drop", reportOversized, true);
})();
