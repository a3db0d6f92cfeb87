"""open_clip: its data files and its sources, which no stock hook collects.

- ``model_configs/*.json`` (every architecture's config) and the BPE vocabulary
  ``bpe_simple_vocab_16e6.txt.gz``: without them the tokenizer and
  ``create_model`` fail at run time.
- The ``.py`` files beside the compiled modules: photoseek loads
  ``open_clip/tokenizer.py`` and ``zero_shot_metadata.py`` as files
  (``photoseek.core.model.openclipfiles``) to skip open_clip's 2.5 s import.
"""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

datas = collect_data_files("open_clip")
hiddenimports = collect_submodules("open_clip")
module_collection_mode = "pyz+py"
