"""The predict-time model: TF-IDF + logistic regression evaluated with numpy alone.

- `analyzers`: scikit-learn's analyzers and softmax reproduced exactly (parity-critical);
- `model`: `CompiledModel`, its blocks, conversion from a pipeline, storage;
- `batch`: the batch accelerator, exact to the text-by-text path, several times faster.
"""

from stance.compiled.analyzers import TOKEN, char_wb_ngrams, per_class, probabilities, word_ngrams
from stance.compiled.batch import BATCH_MIN, PieceCache
from stance.compiled.model import Block, CompiledModel

__all__ = ["BATCH_MIN", "TOKEN", "Block", "CompiledModel", "PieceCache", "char_wb_ngrams", "per_class",
           "probabilities", "word_ngrams"]
