"""The paper's four scenes, simulated with pymunk and drawn offscreen into numpy frames.

``simulate("box", 1000)`` returns ``(images, state)`` in the data file format of the design
doc (section 10). See ``scene_base`` for units and axes.
"""

from kvae_studio.sim.render import render_ball, render_frames, render_paddles, wall_image
from kvae_studio.sim.scenes import (
    SCENES,
    BoxGravityParams,
    BoxParams,
    PolygonParams,
    PongParams,
    SceneParams,
    param_help,
    scene_params,
)
from kvae_studio.sim.simulate import (
    BATCH,
    FRAME_BUDGET,
    Batch,
    Progress,
    SimulationCancelled,
    Trajectories,
    iter_batches,
    launch_states,
    memory_needed,
    simulate,
    simulate_trajectories,
)

__all__ = [
    "BATCH",
    "FRAME_BUDGET",
    "SCENES",
    "Batch",
    "BoxGravityParams",
    "BoxParams",
    "PolygonParams",
    "PongParams",
    "Progress",
    "SceneParams",
    "SimulationCancelled",
    "Trajectories",
    "iter_batches",
    "launch_states",
    "memory_needed",
    "param_help",
    "render_ball",
    "render_frames",
    "render_paddles",
    "scene_params",
    "simulate",
    "simulate_trajectories",
    "wall_image",
]
