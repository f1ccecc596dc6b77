"""Dash callback request bodies built the way the browser builds them, from `/_dash-dependencies`.

`DashSession` is a small model of dash-renderer: it keeps the current component tree (from
`/_dash-layout` and every callback answer), and when a prop changes it fires the server callbacks
that listen to it, in dependency order, applies their answers and fires what those change in turn,
until the chain settles. Each request is recorded (path, body, answer), so an interaction can be
replayed byte for byte by the load generator. Clientside callbacks cannot run here; they are listed
as skipped.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass, field

from benchmarks.load import Response, Step

UPDATE_PATH = "/_dash-update-component"
PATCH_MARKER = "__dash_patch_update"
WILDCARDS = ("ALL", "MATCH", "ALLSMALLER")


class PayloadError(RuntimeError):
    """The app's dependencies or layout do not allow the requested interaction."""


# --- ids and dependency strings ---------------------------------------------------------------------


def stringify_id(component_id) -> str:
    """Dash's string form of an id: the string itself, or sorted-key compact JSON for a dict id."""
    if isinstance(component_id, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(component_id[k])}" for k in sorted(component_id)) + "}"
    return str(component_id)


def parse_id(text: str):
    """An id as written in the dependency list: a plain string, or a JSON object for pattern ids."""
    if text.startswith("{"):
        return json.loads(text)
    return text


def split_output(output: str) -> list[dict]:
    """The {id, property} pairs of a callback's output string ("..a.b...c.d.." for several)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    pairs = []
    for part in parts:
        id_text, _, prop = part.rpartition(".")
        if not id_text:
            raise PayloadError(f"cannot read output {part!r} of callback {output!r}")
        pairs.append({"id": parse_id(id_text), "property": prop})
    return pairs


def is_wildcard(component_id) -> bool:
    """Whether a (dict) id holds a pattern-matching wildcard such as ALL."""
    return isinstance(component_id, dict) and any(
        isinstance(v, list) and len(v) == 1 and v[0] in WILDCARDS for v in component_id.values()
    )


def match_pattern(pattern: dict, component_id) -> bool:
    """Whether a concrete dict id matches a pattern id (same keys; wildcards match any value)."""
    if not isinstance(component_id, dict) or set(pattern) != set(component_id):
        return False
    for key, wanted in pattern.items():
        if isinstance(wanted, list) and len(wanted) == 1 and wanted[0] in WILDCARDS:
            continue
        if component_id[key] != wanted:
            return False
    return True


def base_prop(prop: str) -> str:
    """The property name without the `@hash` suffix of allow_duplicate outputs."""
    return prop.split("@", 1)[0]


# --- the component tree -------------------------------------------------------------------------------


def is_component(node) -> bool:
    """Whether a JSON node is a serialized Dash component."""
    return isinstance(node, dict) and "props" in node and "type" in node and "namespace" in node


def walk_components(node):
    """Every component inside a JSON value (children and any other prop holding components)."""
    if is_component(node):
        yield node
        for value in node["props"].values():
            yield from walk_components(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk_components(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from walk_components(value)


def index_components(tree) -> dict[str, dict]:
    """{stringified id: props dict} of every component with an id in a tree."""
    index = {}
    for component in walk_components(tree):
        component_id = component["props"].get("id")
        if component_id is not None:
            index[stringify_id(component_id)] = component["props"]
    return index


# --- callbacks --------------------------------------------------------------------------------------


@dataclass
class Callback:
    """One entry of /_dash-dependencies, parsed."""

    output: str
    outputs: list[dict]
    inputs: list[dict]
    state: list[dict]
    clientside: bool
    prevent_initial_call: bool
    background: bool

    @classmethod
    def from_dependency(cls, dep: dict) -> "Callback":
        """Parse one dependency entry."""
        def ids(items):
            return [{"id": parse_id(item["id"]), "property": item["property"]} for item in items]

        return cls(
            output=dep["output"],
            outputs=split_output(dep["output"]) if not dep.get("no_output") else [],
            inputs=ids(dep.get("inputs", [])),
            state=ids(dep.get("state", [])),
            clientside=bool(dep.get("clientside_function")),
            prevent_initial_call=bool(dep.get("prevent_initial_call")),
            background=bool(dep.get("background")),
        )

    @property
    def is_multi(self) -> bool:
        """Whether the output string names several outputs (the answer is then a list)."""
        return self.output.startswith("..")

    def listens_to(self, prop_id: str) -> bool:
        """Whether `prop_id` ("<id>.<prop>") is one of this callback's inputs."""
        id_text, _, prop = prop_id.rpartition(".")
        for item in self.inputs:
            if item["property"] != prop:
                continue
            if is_wildcard(item["id"]):
                if id_text.startswith("{") and match_pattern(item["id"], json.loads(id_text)):
                    return True
            elif stringify_id(item["id"]) == id_text:
                return True
        return False

    def output_prop_ids(self) -> set[str]:
        """"<id>.<prop>" of every output (without @hash suffixes)."""
        return {f"{stringify_id(o['id'])}.{base_prop(o['property'])}" for o in self.outputs}


def build_callback_body(callback: Callback, index: dict[str, dict], changed: list[str]) -> dict:
    """The JSON body dash-renderer POSTs for `callback`, with values read from the component index."""

    def fill(items: list[dict]) -> list:
        values = []
        for item in items:
            if is_wildcard(item["id"]):
                matches = []
                for key, props in index.items():
                    if key.startswith("{") and match_pattern(item["id"], json.loads(key)):
                        entry = {"id": json.loads(key), "property": item["property"]}
                        if item["property"] in props:
                            entry["value"] = props[item["property"]]
                        matches.append(entry)
                if any(v == ["MATCH"] or v == ["ALLSMALLER"] for v in item["id"].values()):
                    raise PayloadError(f"MATCH/ALLSMALLER inputs are not supported: {item['id']}")
                values.append(matches)
                continue
            key = stringify_id(item["id"])
            if key not in index:
                raise PayloadError(f"component {key!r} of callback {callback.output!r} is not in the layout")
            entry = {"id": item["id"], "property": item["property"]}
            if item["property"] in index[key]:  # the renderer drops undefined values
                entry["value"] = index[key][item["property"]]
            values.append(entry)
        return values

    outputs = []
    for item in callback.outputs:
        if is_wildcard(item["id"]):
            raise PayloadError(f"pattern-matching outputs are not supported: {callback.output}")
        outputs.append({"id": item["id"], "property": item["property"]})
    body = {
        "output": callback.output,
        "outputs": outputs if callback.is_multi else (outputs[0] if outputs else []),
        "inputs": fill(callback.inputs),
        "changedPropIds": list(changed),
        "parsedChangedPropsIds": [_parsed_prop_id(p) for p in changed],
    }
    if callback.state:
        body["state"] = fill(callback.state)
    return body


def _parsed_prop_id(prop_id: str):
    """The renderer's parsedChangedPropsIds entry: the prop id, or for a pattern id its id object."""
    if prop_id.startswith("{"):
        return json.loads(prop_id[: prop_id.rindex("}") + 1])
    return prop_id


def encode_body(body: dict) -> bytes:
    """Compact JSON bytes, as JSON.stringify writes them."""
    return json.dumps(body, separators=(",", ":")).encode()


# --- a session: the renderer's loop -------------------------------------------------------------------


@dataclass
class Exchange:
    """One callback request of an interaction and its answer."""

    output: str
    wave: int
    body: bytes
    response: Response


@dataclass
class InteractionRecord:
    """Every request one user action caused, with the summed and critical-path round-trip times."""

    name: str
    exchanges: list[Exchange] = field(default_factory=list)
    skipped_clientside: list[str] = field(default_factory=list)

    @property
    def total_ms(self) -> float:
        """Sum of the round trips (what one connection spends, an upper bound of the browser's wait)."""
        return sum(e.response.elapsed_ms for e in self.exchanges)

    @property
    def critical_path_ms(self) -> float:
        """Sum over waves of the slowest request (the browser sends one wave's requests in parallel)."""
        waves: dict[int, float] = {}
        for e in self.exchanges:
            waves[e.wave] = max(waves.get(e.wave, 0.0), e.response.elapsed_ms)
        return sum(waves.values())

    @property
    def raw_bytes(self) -> int:
        """Uncompressed response bytes of all requests."""
        return sum(e.response.raw_bytes for e in self.exchanges)

    @property
    def gzip_bytes(self) -> int:
        """Gzip response bytes of all requests."""
        return sum(e.response.gzip_bytes for e in self.exchanges)

    @property
    def wire_bytes(self) -> int:
        """Response bytes as sent, in the encoding the server chose for a browser's Accept-Encoding."""
        return sum(e.response.wire_bytes for e in self.exchanges)

    @property
    def encodings(self) -> set[str]:
        """The Content-Encodings the server answered with ("" for none)."""
        return {e.response.content_encoding for e in self.exchanges}

    @property
    def errors(self) -> list[str]:
        """Requests that answered neither 200 nor 204 (PreventUpdate)."""
        return [f"{e.output}: HTTP {e.response.status}" for e in self.exchanges if e.response.status not in (200, 204)]

    def steps(self) -> list[Step]:
        """The requests as replayable steps."""
        return [Step(UPDATE_PATH, e.body) for e in self.exchanges]


class DashSession:
    """One simulated browser tab on a Dash app: a layout, the callbacks, and the renderer's firing rules."""

    def __init__(self, transport, max_requests_per_interaction: int = 50):
        self.transport = transport
        self.max_requests = max_requests_per_interaction
        deps = self._get_json("/_dash-dependencies")
        self.callbacks = [Callback.from_dependency(d) for d in deps]
        self.layout = self._get_json("/_dash-layout")
        self.index = index_components(self.layout)

    def _get_json(self, path: str):
        answer = self.transport.get(path)
        if answer.status != 200:
            raise PayloadError(f"GET {path} answered HTTP {answer.status}")
        return json.loads(answer.body)

    # --- reading and writing props ----------------------------------------------------------------

    def value(self, component_id, prop: str):
        """The current value of a prop in this session's layout."""
        key = stringify_id(component_id)
        if key not in self.index:
            raise PayloadError(f"no component {key!r} in the current layout")
        return self.index[key].get(prop)

    def ids_matching(self, pattern: dict) -> list[dict]:
        """Concrete ids in the layout matching a pattern id."""
        return [json.loads(k) for k in self.index if k.startswith("{") and match_pattern(pattern, json.loads(k))]

    def set_local(self, component_id, prop: str, value) -> None:
        """Change a prop without firing callbacks (state a browser holds but the server never saw)."""
        key = stringify_id(component_id)
        if key not in self.index:
            raise PayloadError(f"no component {key!r} in the current layout")
        self.index[key][prop] = value

    # --- user actions ------------------------------------------------------------------------------

    def load_page(self, pathname: str, search: str = "") -> InteractionRecord:
        """What the browser does after the app shell loads: the page router, then the page's initial callbacks."""
        return self.set_props("_pages_location", {"pathname": pathname, "search": search}, name=f"load {pathname}")

    def set_props(self, component_id, props: dict, name: str = "interaction") -> InteractionRecord:
        """Set props as a user (or a component) would, and run every callback this causes."""
        key = stringify_id(component_id)
        if key not in self.index:
            raise PayloadError(f"no component {key!r} in the current layout")
        self.index[key].update(props)
        changed = [f"{key}.{prop}" for prop in props]
        record = InteractionRecord(name)
        pending: dict[str, list[str]] = {}
        self._queue_listeners(changed, pending, record, exclude=None)
        self._run(pending, record)
        return record

    # --- the firing loop ----------------------------------------------------------------------------

    def _callback(self, output: str) -> Callback:
        return next(cb for cb in self.callbacks if cb.output == output)

    def _queue_listeners(self, changed: list[str], pending: dict, record: InteractionRecord, exclude) -> None:
        for cb in self.callbacks:
            if cb.output == exclude:
                continue  # a callback is never re-fired by its own outputs
            hits = [p for p in changed if cb.listens_to(p)]
            if hits and self._outputs_present(cb):
                self._enqueue(cb, hits, pending, record)

    def _enqueue(self, cb: Callback, changed: list[str], pending: dict, record: InteractionRecord) -> None:
        if cb.clientside:
            if cb.output not in record.skipped_clientside:
                record.skipped_clientside.append(cb.output)
            return
        merged = pending.setdefault(cb.output, [])
        merged.extend(p for p in changed if p not in merged)

    def _outputs_present(self, cb: Callback) -> bool:
        return all(stringify_id(o["id"]) in self.index for o in cb.outputs if not is_wildcard(o["id"]))

    def _run(self, pending: dict[str, list[str]], record: InteractionRecord) -> None:
        wave = 0
        while pending:
            waiting = {out: self._callback(out) for out in pending}
            produced = set().union(*(cb.output_prop_ids() for cb in waiting.values()))
            # A callback waits while another pending one still has to produce one of its inputs.
            ready = [
                out for out, cb in waiting.items()
                if not any(cb.listens_to(p) for p in produced - cb.output_prop_ids())
            ] or list(waiting)
            batch = {out: pending.pop(out) for out in ready}
            for out, changed in batch.items():
                if len(record.exchanges) >= self.max_requests:
                    raise PayloadError(f"interaction {record.name!r} fired more than {self.max_requests} requests")
                self._fire(self._callback(out), changed, wave, record, pending)
            wave += 1

    def _fire(self, cb: Callback, changed: list[str], wave: int, record: InteractionRecord, pending: dict) -> None:
        body = encode_body(build_callback_body(cb, self.index, changed))
        answer = self.transport.post(UPDATE_PATH, body)
        record.exchanges.append(Exchange(cb.output, wave, body, answer))
        if answer.status != 200:
            return  # 204: PreventUpdate; errors are reported by the record
        payload = json.loads(answer.body)
        updates = dict(payload.get("response", {}))
        for side in payload.get("sideUpdate", {}) or {}:
            updates.setdefault(side, {}).update(payload["sideUpdate"][side])
        changed_now: list[str] = []
        new_chunks = []
        for key, props in updates.items():
            if key not in self.index:
                continue
            for prop, value in props.items():
                if isinstance(value, dict) and PATCH_MARKER in value:
                    pass  # a Patch edits a prop in place; its listeners fire, the stored value is not needed
                else:
                    self.index[key][prop] = value
                    if any(True for _ in walk_components(value)):
                        new_chunks.append(value)
                changed_now.append(f"{key}.{prop}")
        for chunk in new_chunks:
            self.index.update(index_components(chunk))
        self._queue_listeners(changed_now, pending, record, exclude=cb.output)
        for chunk in new_chunks:
            self._queue_chunk_callbacks(chunk, pending, record)

    def _queue_chunk_callbacks(self, chunk, pending: dict, record: InteractionRecord) -> None:
        """New components: initial calls of callbacks writing into them, and calls of callbacks reading them."""
        chunk_keys = set(index_components(chunk))
        chunk_ids = [json.loads(k) if k.startswith("{") else k for k in chunk_keys]
        for cb in self.callbacks:
            if not self._outputs_present(cb):
                continue
            out_keys = {stringify_id(o["id"]) for o in cb.outputs}
            if out_keys & chunk_keys and not cb.prevent_initial_call:
                self._enqueue(cb, [], pending, record)
                continue
            if out_keys and out_keys <= chunk_keys:
                continue  # inputs inside the chunk only count when some output lies outside it
            hits = []
            for item in cb.inputs:
                for component_id in chunk_ids:
                    inside = (match_pattern(item["id"], component_id) if is_wildcard(item["id"])
                              else stringify_id(item["id"]) == stringify_id(component_id))
                    if inside:
                        hits.append(f"{stringify_id(component_id)}.{item['property']}")
            if hits:
                self._enqueue(cb, hits, pending, record)


# --- a transport over Flask's test client (tests, profiling) -----------------------------------------


class TestClientTransport:
    """The HttpTransport interface over a Flask test client (no sockets)."""

    __test__ = False  # not a pytest class

    def __init__(self, flask_app):
        self.client = flask_app.test_client()

    def _answer(self, result, started: float) -> Response:
        wire = result.get_data()
        encoding = result.headers.get("Content-Encoding", "")
        body = gzip.decompress(wire) if encoding == "gzip" else wire
        return Response(result.status_code, body, len(wire), (time.perf_counter() - started) * 1000.0, encoding)

    def get(self, path: str) -> Response:
        """GET `path`."""
        started = time.perf_counter()
        return self._answer(self.client.get(path, headers={"Accept-Encoding": "gzip"}), started)

    def post(self, path: str, body: bytes) -> Response:
        """POST a JSON body to `path`."""
        started = time.perf_counter()
        result = self.client.post(path, data=body, headers={"Accept-Encoding": "gzip",
                                                              "Content-Type": "application/json"})
        return self._answer(result, started)

    def close(self) -> None:
        """Nothing to close."""
