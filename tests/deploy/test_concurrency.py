"""Many users at once: each of >= 20 parallel HTTP clients gets the answer to its own input, never another's.

The Procfile's web line runs on loopback (2 workers x 4 threads). Every client has its own MNIST-like
vector, its own XOR point and its own drawn image; all start together behind a barrier, repeat their
requests (so the second round is answered from the activation cache) and compare every answer with a
local forward pass of the same input. The inputs are checked to give pairwise different outputs, so a
mixed-up answer cannot pass by coincidence.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
from PIL import Image

from singularity_dash.api import CACHE_HEADER
from singularity_dash.preprocess import preprocess_image

pytestmark = pytest.mark.slow
CLIENTS = 24
ROUNDS = 3
TIMEOUT = 60


def draw_strokes(rng: np.random.Generator, side: int, width: float) -> np.ndarray:
    """A white-on-black float image in [0, 1] of 2-4 random thick strokes: digit-like, but each one different."""
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float64)
    image = np.zeros((side, side))
    points = rng.uniform(0.2 * side, 0.8 * side, size=(rng.integers(3, 6), 2))
    for (y0, x0), (y1, x1) in zip(points[:-1], points[1:]):
        dy, dx = y1 - y0, x1 - x0
        t = np.clip(((ys - y0) * dy + (xs - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0.0, 1.0)
        distance = np.hypot(ys - (y0 + t * dy), xs - (x0 + t * dx))
        image = np.maximum(image, np.clip(1.0 - (distance - width / 2) / 1.5, 0.0, 1.0))
    return image


def build_client_inputs(seed: int) -> dict:
    """One client's inputs: a 784-vector, an XOR point and a PNG drawing (dark ink on white)."""
    rng = np.random.default_rng(seed)
    vector = np.round(draw_strokes(rng, 28, 2.0), 4).astype(np.float32).reshape(-1)
    drawing = draw_strokes(rng, 96, 8.0)
    png = io.BytesIO()
    Image.fromarray(np.uint8(255 - 255 * drawing)).save(png, format="PNG")
    xor_point = [round(float(v), 4) for v in rng.uniform(0, 1, size=2)]
    return {"mnist": vector.tolist(), "xor": xor_point, "png": png.getvalue()}


@pytest.fixture(scope="module")
def clients_inputs():
    return [build_client_inputs(1000 + i) for i in range(CLIENTS)]


@pytest.fixture(scope="module")
def expected(clients_inputs, service):
    """What a local forward pass says for each client's inputs."""
    answers = []
    for inputs in clients_inputs:
        traces = {
            "mnist": service.forward("mnist", inputs["mnist"]),
            "xor": service.forward("xor", inputs["xor"]),
            "png": service.forward("mnist", preprocess_image(inputs["png"]).reshape(-1)),
        }
        answers.append({kind: (trace.probabilities, np.concatenate([layer.z for layer in trace.layers]))
                        for kind, trace in traces.items()})
    return answers


def run_clients(base: str, clients_inputs: list[dict], hostile: bool = False) -> list[list[tuple[str, int, object, str]]]:
    """Every client, in its own thread with its own HTTP session, sends its requests ROUNDS times."""
    barrier = threading.Barrier(len(clients_inputs))

    def client(inputs: dict) -> list[tuple[str, int, object, str]]:
        results = []
        with requests.Session() as session:
            barrier.wait(timeout=TIMEOUT)
            for _ in range(ROUNDS):
                for kind in ("mnist", "xor", "png"):
                    if kind == "png":
                        response = session.post(f"{base}/api/models/mnist/forward", timeout=TIMEOUT,
                                                files={"image": ("digit.png", inputs["png"], "image/png")})
                    else:
                        response = session.post(f"{base}/api/models/{kind}/forward", json={"input": inputs[kind]},
                                                timeout=TIMEOUT)
                    results.append((kind, response.status_code, response.json(), response.headers.get(CACHE_HEADER, "")))
                    if hostile:
                        bad = session.post(f"{base}/api/models/mnist/forward", timeout=TIMEOUT,
                                           files={"image": ("digit.png", inputs["png"][: len(inputs["png"]) // 3])})
                        results.append(("hostile", bad.status_code, bad.json(), ""))
        return results

    with ThreadPoolExecutor(max_workers=len(clients_inputs)) as pool:
        return list(pool.map(client, clients_inputs))


def assert_each_client_got_its_own(all_results, expected):
    for index, (results, mine) in enumerate(zip(all_results, expected)):
        assert len(results) >= 3 * ROUNDS
        for kind, status, body, _ in results:
            if kind == "hostile":
                assert status == 400 and ("truncated" in body["error"] or "damaged" in body["error"]), body
                continue
            assert status == 200, (index, kind, body)
            probabilities, z = mine[kind]
            np.testing.assert_allclose(body["probabilities"], probabilities, atol=1e-5,
                                       err_msg=f"client {index} got someone else's {kind} answer")
            np.testing.assert_allclose(np.concatenate([layer["z"] for layer in body["layers"]]), z, atol=1e-4,
                                       err_msg=f"client {index} got someone else's {kind} trace")
            assert body["prediction"] == int(np.argmax(probabilities))


def test_client_inputs_give_pairwise_different_answers(expected):
    """Precondition of the tests below: swapping two clients' answers would be detected."""
    for kind in ("mnist", "xor", "png"):
        traces = np.array([e[kind][1] for e in expected])
        gaps = np.abs(traces[:, None, :] - traces[None, :, :]).max(axis=-1)
        np.fill_diagonal(gaps, np.inf)
        assert gaps.min() > 1e-2, kind  # far above the 1e-4 tolerance of the comparison
    predictions = {int(np.argmax(e[kind][0])) for e in expected for kind in ("mnist", "png")}
    assert len(predictions) >= 3


def test_parallel_clients_each_get_their_own_prediction(web_server, clients_inputs, expected):
    base = web_server()
    assert len(clients_inputs) >= 20
    assert_each_client_got_its_own(run_clients(base, clients_inputs), expected)


def test_parallel_clients_with_a_shared_redis_cache(web_server, redis_server, clients_inputs, expected):
    """Two servers on one Redis: cache hits from another process still answer each client with its own input."""
    bases = [web_server(REDIS_URL=redis_server.url), web_server(REDIS_URL=redis_server.url)]
    halves = [clients_inputs[0::2], clients_inputs[1::2]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = list(pool.map(run_clients, bases, halves))
        # Swap servers: now every answer can come from the cache the other server filled.
        second = list(pool.map(run_clients, bases[::-1], halves))
    assert_each_client_got_its_own(first[0] + first[1], expected[0::2] + expected[1::2])
    assert_each_client_got_its_own(second[0] + second[1], expected[0::2] + expected[1::2])
    assert {cache for server in second for client in server for *_, cache in client} == {"hit"}


def test_hostile_uploads_interleaved_do_not_disturb_valid_ones(web_server, clients_inputs, expected):
    base = web_server()
    results = run_clients(base, clients_inputs, hostile=True)
    assert_each_client_got_its_own(results, expected)
    assert sum(kind == "hostile" for r in results for kind, *_ in r) == CLIENTS * ROUNDS * 3
