#!/usr/bin/env python3
"""Golden-data generator for the lora4j decoder tests (numpy only).

Writes tiny random Llama-family checkpoints plus reference logits computed by an
independent float32 numpy re-implementation of the Hugging Face transformers
forward pass (modeling_llama / modeling_mistral / modeling_qwen2, eager
attention, no KV cache, positions 0..T-1, no padding).

Output: inference/src/test/resources/golden/<case>/
    config.json        - as transformers' PretrainedConfig.to_json_file writes it
                         (json.dumps(indent=2, sort_keys=True) + "\n"), keys laid
                         out like the transformers version named in
                         "transformers_version" (the files are NOT produced by
                         transformers; there is no torch here).
    model.safetensors  - real HF tensor names, F32 (or BF16 for the bf16 case),
                         header padded with spaces to a multiple of 8 bytes,
                         __metadata__ {"format": "pt"}.
    expected.json      - input_ids [B][T] and logits [B][T][V] (float32 values
                         written as float(x), i.e. the exact float32 value in
                         shortest double repr), plus a description.
    expected_greedy.json (case llama_gqa_llama3rope only).

Usage (from the repository root):  python3 scripts/golden/make_golden.py
Deterministic: every case draws from np.random.default_rng(<fixed seed>).

HF conventions reproduced here (the ones that are easy to get wrong):
  * RMSNorm: x * (1/sqrt(mean(x^2) + eps)) in float32, THEN * weight.
  * RoPE: inv_freq = 1 / theta ** (arange(0, hd, 2) / hd) (float32);
    emb = cat(freqs, freqs); x*cos + rotate_half(x)*sin with
    rotate_half(x) = cat(-x[hd/2:], x[:hd/2])  (NOT the interleaved/GPT-J form).
    rope_scaling "linear": inv_freq / factor.  "llama3": HF
    _compute_llama3_parameters: wavelen = 2*pi/inv_freq;
      wavelen <  orig/high_freq_factor           -> unchanged   (high band)
      wavelen >  orig/low_freq_factor            -> / factor    (low band)
      otherwise (both bounds inclusive)          -> smoothed:
        s = (orig/wavelen - low_ff) / (high_ff - low_ff)
        inv = (1 - s) * inv / factor + s * inv                 (medium band)
    The scaling type is read from "rope_type", falling back to the legacy "type".
    attention_scaling is 1.0 for default/linear/llama3.
  * Attention: scores = (q @ k^T) * head_dim**-0.5, GQA via repeat_kv (query head
    h uses kv head h // (nH/nKV)), causal mask, softmax in float32.
    head_dim = config["head_dim"] if present (and not null) else hidden/nH.
  * Sliding window (transformers masking_utils.sliding_window_overlay):
    key j visible from query i  iff  i - sliding_window < j <= i
    (i.e. the window holds exactly `sliding_window` keys including i itself).
    Mistral: applied whenever config.sliding_window is not null.
    Qwen2: applied only if use_sliding_window is true (and layer >=
    max_window_layers); with use_sliding_window false HF sets the effective
    sliding_window to None, so NO window is applied regardless of the value.
    Llama: never.
  * Biases: Qwen2 has q/k/v biases (no o bias); Llama attention_bias=true gives
    q/k/v/o biases.  MLP: down(silu(gate(x)) * up(x)), no biases.
  * Tied embeddings: no lm_head.weight tensor, logits use embed_tokens.weight.
  * BF16 case: weights are rounded float32 -> bf16 with round-to-nearest-even,
    stored as BF16, and the forward runs in float32 on the rounded values
    (= from_pretrained(..., torch_dtype=torch.float32)).
"""

import json
import math
import os
import struct
import sys

import numpy as np

F32 = np.float32
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT_ROOT = os.path.join(REPO, "inference", "src", "test", "resources", "golden")
MAX_FOLDER_BYTES = 150 * 1024

# --------------------------------------------------------------------------
# helpers: bf16, safetensors
# --------------------------------------------------------------------------


def bf16_round(a):
    """float32 array -> (uint16 bf16 bits, float32 array of the rounded values).

    Round-to-nearest-even on the upper 16 bits (what torch's .to(bfloat16) does
    for finite values)."""
    u = np.ascontiguousarray(a, dtype=F32).view(np.uint32).astype(np.uint64)
    assert np.all((u & 0x7F800000) != 0x7F800000), "non-finite weight"
    lsb = (u >> 16) & 1
    bits = ((u + 0x7FFF + lsb) >> 16).astype(np.uint16)
    back = (bits.astype(np.uint32) << 16).view(F32)
    return bits, back


def _check_bf16():
    def one(x):
        return int(bf16_round(np.array([x], dtype=F32))[0][0])
    assert one(1.0) == 0x3F80
    assert one(1.0 + 2.0 ** -8) == 0x3F80          # tie -> even (down)
    assert one(1.0 + 3 * 2.0 ** -8) == 0x3F82      # tie -> even (up)
    assert one(1.0 + 2.0 ** -8 + 2.0 ** -20) == 0x3F81  # above half -> up
    assert one(-1.0) == 0xBF80


def write_safetensors(path, tensors):
    """tensors: name -> (dtype_tag, ndarray). dtype_tag "F32" or "BF16" (uint16 bits)."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        tag, arr = tensors[name]
        if tag == "F32":
            raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        elif tag == "BF16":
            assert arr.dtype == np.uint16
            raw = np.ascontiguousarray(arr, dtype="<u2").tobytes()
        else:
            raise ValueError(tag)
        header[name] = {"dtype": tag, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Independent reader used to round-trip check the files: name -> float32 array."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    out = {}
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        end = max(end, b)
        if info["dtype"] == "F32":
            arr = np.frombuffer(body[a:b], dtype="<f4").astype(F32)
        elif info["dtype"] == "BF16":
            arr = (np.frombuffer(body[a:b], dtype="<u2").astype(np.uint32) << 16).view(F32)
        else:
            raise ValueError(info["dtype"])
        out[name] = arr.reshape(info["shape"])
    assert end == len(body), "data section size mismatch"
    return header, out


# --------------------------------------------------------------------------
# the float32 HF-style forward
# --------------------------------------------------------------------------


def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def rope_type_of(cfg):
    rs = cfg.get("rope_scaling")
    if rs is None:
        return "default"
    return rs.get("rope_type", rs.get("type"))


def rope_inv_freq(cfg):
    """inv_freq exactly as transformers.modeling_rope_utils computes it (float32)."""
    hd = head_dim_of(cfg)
    base = float(cfg["rope_theta"])
    inv = (1.0 / (base ** (np.arange(0, hd, 2, dtype=np.int64).astype(F32) / hd))).astype(F32)
    rtype = rope_type_of(cfg)
    rs = cfg.get("rope_scaling")
    if rtype == "default":
        return inv
    if rtype == "linear":
        return (inv / float(rs["factor"])).astype(F32)
    if rtype == "llama3":
        factor = float(rs["factor"])
        lff = float(rs["low_freq_factor"])
        hff = float(rs["high_freq_factor"])
        old = float(rs["original_max_position_embeddings"])
        low_wl = old / lff
        high_wl = old / hff
        wavelen = (2 * math.pi / inv).astype(F32)
        inv_l = np.where(wavelen > low_wl, inv / factor, inv).astype(F32)
        smooth = ((old / wavelen - lff) / (hff - lff)).astype(F32)
        smoothed = ((1 - smooth) * inv_l / factor + smooth * inv_l).astype(F32)
        medium = ~(wavelen < high_wl) & ~(wavelen > low_wl)
        return np.where(medium, smoothed, inv_l).astype(F32)
    raise ValueError("unsupported rope type %r" % rtype)


def llama3_bands(cfg):
    """Band label per frequency, computed in plain Python doubles (independent check)."""
    rs = cfg["rope_scaling"]
    hd = head_dim_of(cfg)
    old = rs["original_max_position_embeddings"]
    bands, expect = [], []
    for k in range(0, hd, 2):
        inv = 1.0 / (cfg["rope_theta"] ** (k / hd))
        wl = 2 * math.pi / inv
        if wl < old / rs["high_freq_factor"]:
            bands.append("high")
            expect.append(inv)
        elif wl > old / rs["low_freq_factor"]:
            bands.append("low")
            expect.append(inv / rs["factor"])
        else:
            bands.append("medium")
            s = (old / wl - rs["low_freq_factor"]) / (rs["high_freq_factor"] - rs["low_freq_factor"])
            expect.append((1 - s) * inv / rs["factor"] + s * inv)
        # stay well away from the band edges so float rounding can't flip a band
        for edge in (old / rs["high_freq_factor"], old / rs["low_freq_factor"]):
            assert abs(wl - edge) / edge > 1e-3, "wavelength too close to a band edge"
    return bands, np.array(expect)


def window_for_layer(cfg, layer):
    mt = cfg["model_type"]
    if mt == "mistral":
        return cfg.get("sliding_window")
    if mt == "qwen2":
        if cfg.get("use_sliding_window") and cfg.get("sliding_window") is not None \
                and layer >= cfg.get("max_window_layers", 0):
            return cfg["sliding_window"]
        return None
    return None


def rms_norm(x, w, eps):
    var = np.mean(x * x, axis=-1, keepdims=True, dtype=F32)
    return (w * (x * (F32(1.0) / np.sqrt(var + F32(eps))))).astype(F32)


def linear(x, w, b=None):
    y = np.matmul(x, w.T).astype(F32)
    if b is not None:
        y = (y + b).astype(F32)
    return y


def silu(x):
    with np.errstate(over="ignore"):
        return (x / (F32(1.0) + np.exp(-x))).astype(F32)


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return (e / np.sum(e, axis=-1, keepdims=True)).astype(F32)


def log_softmax(x):
    x = x.astype(F32)
    m = np.max(x, axis=-1, keepdims=True)
    s = x - m
    return (s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))).astype(F32)


def visible_mask(T, window):
    i = np.arange(T)[:, None]
    j = np.arange(T)[None, :]
    m = j <= i
    if window is not None:
        m &= j > i - window
    return m


def forward(cfg, W, ids, window_override="config", inv_freq_override=None):
    """Full-sequence logits [B, T, V] in float32 (HF eager semantics).

    window_override (self-checks only): "config" (default, HF rule), None/int, or
    a callable layer -> None/int."""
    ids = np.asarray(ids, dtype=np.int64)
    B, T = ids.shape
    nH, nKV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = head_dim_of(cfg)
    eps = cfg["rms_norm_eps"]
    inv = rope_inv_freq(cfg) if inv_freq_override is None else inv_freq_override
    pos = np.arange(T, dtype=F32)
    freqs = (pos[:, None] * inv[None, :]).astype(F32)
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb).astype(F32), np.sin(emb).astype(F32)

    x = W["model.embed_tokens.weight"][ids].astype(F32)
    for layer in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        a = p + "self_attn."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = linear(h, W[a + "q_proj.weight"], W.get(a + "q_proj.bias"))
        k = linear(h, W[a + "k_proj.weight"], W.get(a + "k_proj.bias"))
        v = linear(h, W[a + "v_proj.weight"], W.get(a + "v_proj.bias"))
        q = q.reshape(B, T, nH, hd).transpose(0, 2, 1, 3)
        k = k.reshape(B, T, nKV, hd).transpose(0, 2, 1, 3)
        v = v.reshape(B, T, nKV, hd).transpose(0, 2, 1, 3)
        q = (q * cos + rotate_half(q) * sin).astype(F32)
        k = (k * cos + rotate_half(k) * sin).astype(F32)
        k = np.repeat(k, nH // nKV, axis=1)   # == HF repeat_kv ordering
        v = np.repeat(v, nH // nKV, axis=1)
        scores = (np.matmul(q, k.transpose(0, 1, 3, 2)) * F32(hd ** -0.5)).astype(F32)
        if callable(window_override):
            window = window_override(layer)
        elif window_override == "config":
            window = window_for_layer(cfg, layer)
        else:
            window = window_override
        mask = visible_mask(T, window)
        scores = np.where(mask, scores, F32(-np.inf))
        probs = softmax(scores)
        o = np.matmul(probs, v).astype(F32).transpose(0, 2, 1, 3).reshape(B, T, nH * hd)
        x = (x + linear(o, W[a + "o_proj.weight"], W.get(a + "o_proj.bias"))).astype(F32)
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = silu(linear(h, W[p + "mlp.gate_proj.weight"]))
        u = linear(h, W[p + "mlp.up_proj.weight"])
        x = (x + linear((g * u).astype(F32), W[p + "mlp.down_proj.weight"])).astype(F32)
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return linear(x, head)


# --------------------------------------------------------------------------
# independent naive reference (float64, explicit loops) for self-checks
# --------------------------------------------------------------------------


def naive_forward(cfg, W, ids):
    W = {k: v.astype(np.float64) for k, v in W.items()}
    nH, nKV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = head_dim_of(cfg)
    half = hd // 2
    eps = cfg["rms_norm_eps"]
    inv = rope_inv_freq(cfg).astype(np.float64)
    group = nH // nKV

    def norm(vec, w):
        r = 1.0 / math.sqrt(sum(t * t for t in vec) / len(vec) + eps)
        return np.array([vec[c] * r * w[c] for c in range(len(vec))])

    def rope(vec, pos):  # pairs (c, c + hd/2) rotated by pos * inv[c]
        out = np.empty(hd)
        for c in range(half):
            ang = pos * inv[c]
            x1, x2 = vec[c], vec[c + half]
            out[c] = x1 * math.cos(ang) - x2 * math.sin(ang)
            out[c + half] = x2 * math.cos(ang) + x1 * math.sin(ang)
        return out

    def lin(vec, name, bias=None):
        y = W[name] @ vec
        return y + W[bias] if bias is not None and bias in W else y

    all_logits = []
    for seq in ids:
        T = len(seq)
        xs = [W["model.embed_tokens.weight"][t].copy() for t in seq]
        for layer in range(cfg["num_hidden_layers"]):
            p = "model.layers.%d." % layer
            a = p + "self_attn."
            window = window_for_layer(cfg, layer)
            hs = [norm(xv, W[p + "input_layernorm.weight"]) for xv in xs]
            Q = [lin(h, a + "q_proj.weight", a + "q_proj.bias").reshape(nH, hd) for h in hs]
            K = [lin(h, a + "k_proj.weight", a + "k_proj.bias").reshape(nKV, hd) for h in hs]
            V = [lin(h, a + "v_proj.weight", a + "v_proj.bias").reshape(nKV, hd) for h in hs]
            Q = [np.array([rope(Q[t][hh], t) for hh in range(nH)]) for t in range(T)]
            K = [np.array([rope(K[t][hh], t) for hh in range(nKV)]) for t in range(T)]
            new_xs = []
            for i in range(T):                       # query position
                o = np.zeros(nH * hd)
                for hh in range(nH):                 # query head
                    kvh = hh // group
                    js, sc = [], []
                    for j in range(T):               # key position
                        if j > i:
                            continue                 # causal
                        if window is not None and not (i - window < j):
                            continue                 # outside sliding window
                        js.append(j)
                        sc.append(sum(Q[i][hh][c] * K[j][kvh][c] for c in range(hd)) / math.sqrt(hd))
                    mx = max(sc)
                    ex = [math.exp(s - mx) for s in sc]
                    z = sum(ex)
                    for j, e in zip(js, ex):
                        o[hh * hd:(hh + 1) * hd] += (e / z) * V[j][kvh]
                new_xs.append(xs[i] + lin(o, a + "o_proj.weight", a + "o_proj.bias"))
            xs = new_xs
            out = []
            for xv in xs:
                h = norm(xv, W[p + "post_attention_layernorm.weight"])
                g = W[p + "mlp.gate_proj.weight"] @ h
                g = g / (1.0 + np.exp(-g))
                u = W[p + "mlp.up_proj.weight"] @ h
                out.append(xv + W[p + "mlp.down_proj.weight"] @ (g * u))
            xs = out
        head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
        all_logits.append([head @ norm(xv, W["model.norm.weight"]) for xv in xs])
    return np.array(all_logits)


def check_rope_convention(cfg, rng):
    """The vectorized rope is the rotate_half (split-halves) form, not interleaved."""
    hd = head_dim_of(cfg)
    inv = rope_inv_freq(cfg)
    x = rng.standard_normal((5, hd)).astype(F32)
    pos = np.arange(5, dtype=F32)
    freqs = pos[:, None] * inv[None, :]
    emb = np.concatenate([freqs, freqs], -1)
    got = x * np.cos(emb) + rotate_half(x) * np.sin(emb)
    h = hd // 2
    want = np.empty_like(x)
    want[:, :h] = x[:, :h] * np.cos(freqs) - x[:, h:] * np.sin(freqs)
    want[:, h:] = x[:, h:] * np.cos(freqs) + x[:, :h] * np.sin(freqs)
    assert np.allclose(got, want, atol=1e-6)
    inter = np.empty_like(x)   # GPT-J style: pairs (2c, 2c+1)
    inter[:, 0::2] = x[:, 0::2] * np.cos(freqs) - x[:, 1::2] * np.sin(freqs)
    inter[:, 1::2] = x[:, 1::2] * np.cos(freqs) + x[:, 0::2] * np.sin(freqs)
    assert np.max(np.abs(inter - got)) > 1e-2, "test data can't tell rope conventions apart"
    # norms of (c, c+hd/2) pairs are preserved
    assert np.allclose(got[:, :h] ** 2 + got[:, h:] ** 2, x[:, :h] ** 2 + x[:, h:] ** 2, atol=1e-5)


# --------------------------------------------------------------------------
# model construction
# --------------------------------------------------------------------------


def make_weights(cfg, rng, *, qkv_bias, o_bias):
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nH, nKV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = head_dim_of(cfg)

    def normal(shape, std):
        return (rng.standard_normal(shape) * std).astype(F32)

    def norm_w(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(F32)

    W = {"model.embed_tokens.weight": normal((V, H), 0.2)}
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        W[p + "input_layernorm.weight"] = norm_w(H)
        W[p + "self_attn.q_proj.weight"] = normal((nH * hd, H), 0.2)
        W[p + "self_attn.k_proj.weight"] = normal((nKV * hd, H), 0.2)
        W[p + "self_attn.v_proj.weight"] = normal((nKV * hd, H), 0.2)
        W[p + "self_attn.o_proj.weight"] = normal((H, nH * hd), 0.2)
        if qkv_bias:
            W[p + "self_attn.q_proj.bias"] = normal(nH * hd, 0.1)
            W[p + "self_attn.k_proj.bias"] = normal(nKV * hd, 0.1)
            W[p + "self_attn.v_proj.bias"] = normal(nKV * hd, 0.1)
        if o_bias:
            W[p + "self_attn.o_proj.bias"] = normal(H, 0.1)
        W[p + "post_attention_layernorm.weight"] = norm_w(H)
        W[p + "mlp.gate_proj.weight"] = normal((I, H), 0.2)
        W[p + "mlp.up_proj.weight"] = normal((I, H), 0.2)
        W[p + "mlp.down_proj.weight"] = normal((H, I), 0.2)
    W["model.norm.weight"] = norm_w(H)
    if not cfg["tie_word_embeddings"]:
        W["lm_head.weight"] = normal((V, H), 0.2)
    return W


def floats(a):
    """Nested lists of Python floats holding the exact float32 values."""
    a = np.asarray(a, dtype=F32)
    if a.ndim == 0:
        return float(a)
    return [floats(x) for x in a]


def dump_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def write_config(path, cfg):
    # transformers: PretrainedConfig.to_json_string -> json.dumps(d, indent=2, sort_keys=True) + "\n"
    with open(path, "w") as f:
        f.write(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------


def case_llama_gqa_llama3rope():
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "eos_token_id": [1, 2],
        "head_dim": 8,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 2048,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        # original_max_position_embeddings 256 (not 16): the shortest possible
        # wavelength is 2*pi (inv_freq[0] = 1) so the high band needs
        # orig/high_freq_factor > 2*pi, i.e. orig > 25.1.  With hd=8, theta=5e5
        # the wavelengths are 6.28 / 167 / 4443 / 118147 and orig=256 gives
        # bands high / medium / low / low.
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 256, "rope_type": "llama3"},
        "rope_theta": 500000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": "4.46.3",
        "use_cache": True,
        "vocab_size": 64,
    }
    rng = np.random.default_rng(1001)
    W = make_weights(cfg, rng, qkv_bias=False, o_bias=False)
    ids = rng.integers(3, cfg["vocab_size"], size=(2, 7)).tolist()

    bands, expect = llama3_bands(cfg)
    print("  llama3 bands:", bands)
    assert {"high", "medium", "low"} <= set(bands), "llama3: not all three bands occur"
    inv = rope_inv_freq(cfg)
    assert np.allclose(inv, expect, rtol=1e-6), (inv, expect)

    logits = forward(cfg, W, ids)
    # discriminative: ignoring the llama3 scaling must change the answer
    plain = dict(cfg, rope_scaling=None)
    d = max_diff(logits, forward(plain, W, ids))
    print("  |llama3 - unscaled rope| max logit diff: %.3g" % d)
    assert d > 1e-3
    # each band's treatment is visible in the logits: get one band wrong at a time
    base = rope_inv_freq(plain)
    for label, wrong_band, wrong_value in (("high band / factor", "high", base / 8.0),
                                           ("medium band unscaled", "medium", base),
                                           ("medium band / factor", "medium", base / 8.0),
                                           ("low band unscaled", "low", base)):
        sel = np.array([b == wrong_band for b in bands])
        bad = np.where(sel, wrong_value, inv).astype(F32)
        d = max_diff(logits, forward(cfg, W, ids, inv_freq_override=bad))
        print("  |llama3 - llama3 with %s| max logit diff: %.3g" % (label, d))
        assert d > 1e-3
    extra = {"next_token_logprobs": floats(log_softmax(logits)),
             "rope_inv_freq": floats(inv)}
    desc = ("LlamaForCausalLM, 2 layers, hidden 32, 4 heads / 2 KV heads (GQA), head_dim 8, "
            "untied lm_head, rope_theta 5e5 with llama3 rope scaling whose inv_freq hits all "
            "three bands (high/medium/low/low); F32 weights. logits = full-sequence forward "
            "(positions 0..T-1, no padding, no cache) in float32; next_token_logprobs = "
            "log_softmax(logits, -1) in float32; rope_inv_freq = the scaled inv_freq (debug aid).")
    return cfg, W, ids, logits, extra, desc, "F32"


def case_qwen2_tied_bias():
    cfg = {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
        "max_window_layers": 1,
        "model_type": "qwen2",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 1,
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 1000000.0,
        # set, but inert because use_sliding_window is false (4 < T so a wrongly
        # applied window would change the logits)
        "sliding_window": 4,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "transformers_version": "4.43.1",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": 96,
    }
    rng = np.random.default_rng(2002)
    W = make_weights(cfg, rng, qkv_bias=True, o_bias=False)
    ids = rng.integers(3, cfg["vocab_size"], size=(2, 7)).tolist()
    logits = forward(cfg, W, ids)
    for wrong in ("all layers", "layers >= max_window_layers"):
        wl = lambda l: 4 if (wrong == "all layers" or l >= 1) else None  # noqa: E731
        d = max_diff(logits, forward(cfg, W, ids, window_override=wl))
        print("  |no window - window(4) on %s| max logit diff: %.3g" % (wrong, d))
        assert d > 1e-3
    # biases must matter
    nob = {k: v for k, v in W.items() if not k.endswith(".bias")}
    d = max_diff(logits, forward(cfg, nob, ids))
    print("  |with - without qkv bias| max logit diff: %.3g" % d)
    assert d > 1e-3
    desc = ("Qwen2ForCausalLM, 2 layers, hidden 32, 4 heads / 1 KV head (MQA), head_dim 8, "
            "q/k/v biases (no o bias), tie_word_embeddings=true (no lm_head.weight; logits use "
            "embed_tokens.weight), rope_theta 1e6, sliding_window=4 but use_sliding_window=false "
            "so NO window is applied (plain causal attention); F32 weights.")
    return cfg, W, ids, logits, {}, desc, "F32"


def case_mistral_window():
    cfg = {
        "architectures": ["MistralForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": 16,
        "hidden_act": "silu",
        "hidden_size": 48,
        "initializer_range": 0.02,
        # small so the folder stays < 150 KB (attention alone is 48*16*12 per layer)
        "intermediate_size": 16,
        "max_position_embeddings": 128,
        "model_type": "mistral",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-05,
        # MistralConfig (transformers 4.x) has no rope_scaling attribute, so
        # save_pretrained does not write the key at all: absent == no scaling.
        "rope_theta": 10000.0,
        "sliding_window": 4,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": "4.46.3",
        "use_cache": True,
        "vocab_size": 64,
    }
    rng = np.random.default_rng(3003)
    W = make_weights(cfg, rng, qkv_bias=False, o_bias=False)
    ids = rng.integers(3, cfg["vocab_size"], size=(2, 9)).tolist()
    logits = forward(cfg, W, ids)
    for wrong in (None, 3, 5):
        d = max_diff(logits, forward(cfg, W, ids, window_override=wrong))
        print("  |window 4 - window %s| max logit diff: %.3g" % (wrong, d))
        assert d > 1e-3
    desc = ("MistralForCausalLM, 2 layers, hidden 48, 4 heads / 2 KV heads, explicit head_dim 16 "
            "(q_proj out = 64 != hidden 48), rope_theta 1e4, no rope scaling (key absent, as "
            "MistralConfig writes it), sliding_window=4 with T=9: key j is visible from query i iff "
            "i-4 < j <= i (4 keys incl. itself, HF masking_utils convention); F32 weights.")
    return cfg, W, ids, logits, {}, desc, "F32"


def case_llama_linear_bf16():
    cfg = {
        # laid out like a transformers 4.38 LlamaConfig: no head_dim / mlp_bias keys,
        # rope_scaling uses the legacy "type" spelling.
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": True,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 256,
        "model_type": "llama",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 4,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"factor": 2.0, "type": "linear"},
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.38.2",
        "use_cache": True,
        "vocab_size": 80,
    }
    rng = np.random.default_rng(4004)
    W32 = make_weights(cfg, rng, qkv_bias=True, o_bias=True)
    ids = rng.integers(3, cfg["vocab_size"], size=(2, 7)).tolist()
    bits, W = {}, {}
    for k, v in W32.items():
        bits[k], W[k] = bf16_round(v)
    logits = forward(cfg, W, ids)
    d = max_diff(logits, forward(dict(cfg, rope_scaling=None), W, ids))
    print("  |linear(2) - unscaled rope| max logit diff: %.3g" % d)
    assert d > 1e-3
    d = max_diff(logits, forward(cfg, W32, ids))
    print("  |bf16-rounded - unrounded weights| max logit diff: %.3g" % d)
    assert d > 1e-4
    nob = {k: v for k, v in W.items() if not k.endswith(".bias")}
    d = max_diff(logits, forward(cfg, nob, ids))
    print("  |with - without q/k/v/o bias| max logit diff: %.3g" % d)
    assert d > 1e-3
    desc = ("LlamaForCausalLM, 2 layers, hidden 32, 4 heads / 4 KV heads (MHA), head_dim 8 "
            "(no head_dim key: hidden/heads), attention_bias=true (q/k/v/o biases), rope_theta 1e4, "
            "rope_scaling {\"type\":\"linear\",\"factor\":2.0} (legacy 'type' key) => inv_freq/2; "
            "all weights stored as BF16 (round-to-nearest-even of float32 draws); logits computed "
            "in float32 from the bf16 values upcast to float32.")
    return cfg, W, ids, logits, {}, desc, ("BF16", bits)


def greedy(cfg, W, prompt, n):
    ids = list(prompt)
    gen, margins = [], []
    for _ in range(n):
        last = forward(cfg, W, [ids])[0, -1]       # full recompute each step
        order = np.argsort(-last.astype(np.float64), kind="stable")
        margins.append(float(last[order[0]]) - float(last[order[1]]))
        tok = int(np.argmax(last))
        gen.append(tok)
        ids.append(tok)
    return gen, min(margins)


# --------------------------------------------------------------------------


def main():
    _check_bf16()
    os.makedirs(OUT_ROOT, exist_ok=True)
    cases = [("llama_gqa_llama3rope", case_llama_gqa_llama3rope),
             ("qwen2_tied_bias", case_qwen2_tied_bias),
             ("mistral_window", case_mistral_window),
             ("llama_linear_bf16", case_llama_linear_bf16)]
    check_rng = np.random.default_rng(77)
    for name, fn in cases:
        print("case", name)
        cfg, W, ids, logits, extra, desc, storage = fn()
        folder = os.path.join(OUT_ROOT, name)
        os.makedirs(folder, exist_ok=True)

        # ---- self checks
        check_rope_convention(cfg, check_rng)
        ref = naive_forward(cfg, W, ids)
        d = max_diff(logits, ref)
        print("  vectorized float32 vs naive float64 loops: max diff %.3g "
              "(logit range %.3f..%.3f, std %.3f)" % (d, logits.min(), logits.max(), logits.std()))
        assert d < 1e-4, d
        assert logits.shape == (2, len(ids[0]), cfg["vocab_size"])
        assert ids[0] != ids[1]
        for b in range(2):   # batch rows are independent
            assert max_diff(forward(cfg, W, [ids[b]])[0], logits[b]) < 1e-5

        # ---- files
        write_config(os.path.join(folder, "config.json"), cfg)
        if storage == "F32":
            tensors = {k: ("F32", v) for k, v in W.items()}
        else:
            tensors = {k: ("BF16", v) for k, v in storage[1].items()}
        st_path = os.path.join(folder, "model.safetensors")
        write_safetensors(st_path, tensors)
        header, back = read_safetensors(st_path)
        assert set(back) == set(W)
        for k in W:   # bit-exact round trip of the weights the forward used
            assert back[k].shape == W[k].shape and np.array_equal(back[k].view(np.uint32),
                                                                  W[k].view(np.uint32)), k
        assert ("lm_head.weight" in back) == (not cfg["tie_word_embeddings"])

        expected = {"description": desc, "input_ids": ids, "logits": floats(logits)}
        expected.update(extra)
        dump_json(os.path.join(folder, "expected.json"), expected)
        # JSON round trip is exact in float32
        again = json.load(open(os.path.join(folder, "expected.json")))
        assert np.array_equal(np.array(again["logits"], dtype=F32), logits)

        if name == "llama_gqa_llama3rope":
            eos = set(cfg["eos_token_id"])
            prompt = ids[0]
            gen, margin = greedy(cfg, W, prompt, 8)
            print("  greedy:", prompt, "->", gen, "min top1-top2 margin %.3g" % margin)
            assert margin > 1e-3, "greedy choice too close to a tie"
            assert not (set(gen) & eos), "greedy hit an eos id (HF generate would stop)"
            dump_json(os.path.join(folder, "expected_greedy.json"), {
                "description": "Greedy decoding (argmax, full recompute of the whole sequence "
                               "each step, no sampling, no eos hit) of 8 tokens from prompt_ids.",
                "prompt_ids": prompt, "generated_ids": gen})

        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        print("  wrote %s (%d bytes)" % (folder, size))
        assert size < MAX_FOLDER_BYTES, size
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
