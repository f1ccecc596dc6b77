"""Pure Plotly figure builders: numpy arrays and Traces in, go.Figure / dicts out (no Dash callbacks, no torch)."""
