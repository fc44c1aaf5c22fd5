"""The transport-free engine of jupyter-hotconf.

Nothing in this package imports Tornado, IPython, ipywidgets, ipykernel or
jupyter_server: the same engine runs in the Jupyter server, in the standalone
server and inside a kernel that has no server to talk to (docs/architecture.md).
"""
