"""mscreview: the living review of mesenchymal stem cell therapy for liver cirrhosis."""

__version__ = "0.1.0"
__all__ = ["__version__"]
