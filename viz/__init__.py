"""The Mesa browser view of innatura: ``innatura viz`` serves ``viz/app.py`` (SolaraViz).

:mod:`viz.app` (the page), :mod:`viz.components` (its panels), :mod:`viz.params` (the model
parameters and their validation), :mod:`viz.view_model` (the model the page drives) and
:mod:`viz.assets` (the offline front-end asset cache, ``python -m innatura.viz.assets``).
"""
