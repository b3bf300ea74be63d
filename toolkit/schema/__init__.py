"""The one model (schema/model.yaml) and the files generated from it."""

from toolkit.schema.model import ClassDef, Model, PropertyDef, load_model

__all__ = ["ClassDef", "Model", "PropertyDef", "load_model"]
