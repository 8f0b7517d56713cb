"""The Explore tab: frames, mask painting, timeline, latent plots and metrics.

`explore_view.ExploreView` composes the widgets of the sibling modules; each module
draws one thing and knows nothing of the others.
"""
