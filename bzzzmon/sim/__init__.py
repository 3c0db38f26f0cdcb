"""A simulator of BZZZ agents (the contract in DESIGN.md) with faults switchable at run time."""

from bzzzmon.sim.faults import FAULTS
from bzzzmon.sim.simulator import Simulator, run

__all__ = ["FAULTS", "Simulator", "run"]
