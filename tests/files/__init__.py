"""Real small files made on the fly, so tests upload what a learner would."""

from portfolio.demo.samples import docx_bytes, pdf_bytes, png_bytes

__all__ = ["docx_bytes", "pdf_bytes", "png_bytes"]
