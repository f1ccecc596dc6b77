"""Every page loads in a real browser with no console errors."""

import pytest

from singularity_dash.app import create_app

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "path, marker",
    [("/", "#home-title"), ("/xor", "#xor-title"), ("/mnist", "#mnist-title")],
)
def test_page_loads_without_console_errors(dash_duo, app_config, path, marker):
    app = create_app(app_config)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}{path}")
    dash_duo.wait_for_element(marker, timeout=15)
    assert dash_duo.find_element(".navbar-brand").text == "Singularity"
    assert dash_duo.get_logs() == []
