"""The project: files on disk loaded into typed, frozen objects that remember where they were written."""

from glueform.project.loader import load_project
from glueform.project.model import Column, ModelSpec, Project, SourceTable, Target

__all__ = ["Column", "ModelSpec", "Project", "SourceTable", "Target", "load_project"]
