"""kubectl meshdoctor: explain failing calls across Cilium and Istio."""

__version__ = "0.1.0"
