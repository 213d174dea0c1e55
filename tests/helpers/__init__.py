"""Helpers shared by the tests: schemas, a tiny on-disk catalog and model,
public-dataset fixtures, generated bad images and subprocess launchers."""
