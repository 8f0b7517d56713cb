"""The Dynamics tab's views (issue 24): the regime map, the regime weights over a-space,
the regimes' matrices and eigenvalues, imagined sequences, the error over time.

Each view draws the arrays of one `services.dynamics` result and emits what the user
asks for; `DynamicsPanel` holds them all. No model maths here: the model process
computes, the window draws.
"""
