"""kubectl meshdoctor: explain failing calls across Cilium and Istio."""

from kubectl_meshdoctor import dataclass_methods

dataclass_methods.install()  # before any of the package's dataclasses is created

__version__ = "0.1.0"
