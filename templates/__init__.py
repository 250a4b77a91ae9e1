"""Files glueform ships beside its code: the scaffold of `glueform init` (init/), the docs
site's shell (docs/) and the built-in macros (macros/). Installed as glueform.templates."""
