"""Real-browser tests: JupyterLab driven in headless Chromium (pytest marker ``browser``).

A package (this file) so that its ``conftest.py`` does not clash with ``tests/conftest.py``.
"""
