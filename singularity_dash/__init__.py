"""Singularity: an interactive 3D neural-network visualizer built on Dash."""

__version__ = "0.1.0"
