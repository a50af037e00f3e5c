"""The Jinja templates of the pages, shipped in the wheel as the package `votes.templates`.

The repository keeps them at the top level; setup.cfg maps this folder into the `votes`
distribution, and votes/app.py finds it through the package, never by a path into the tree.
"""
