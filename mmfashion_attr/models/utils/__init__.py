from .fpn_path_energy import FPNPathEnergy

__all__ = ['FPNPathEnergy']
