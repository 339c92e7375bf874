"""A learned crack stage for close-range road photos: per-pixel features, a small OpenCV MLP (cv2.ml), hysteresis.

Pure: a grey image in, a probability map or mask out. The network and its feature scaling
are data (``models/crack-mlp/``, written by ``benchmarks/train_crack_mlp.py`` from CrackForest
001-059); :meth:`CrackMLP.load` reads them. Features are in pixels: the model is for photos
of about 1-5 mm per pixel, where a crack is 1-10 px wide.

Features (12 per pixel, each divided by the image's robust noise level so exposure does not
matter): darkness against a 31 px median background; black-hat with disks of radius 2, 4, 7;
the two Hessian eigenvalues (a dark ridge has a large positive one) at scales 1, 2, 3; the
pixel's rank between its 7 px neighbourhood minimum and maximum; the local standard deviation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .base import disk, robust_sigma, subsample

N_FEATURES = 12


def crack_features(gray: np.ndarray) -> np.ndarray:
    """(H, W, 12) float32 features of a uint8 grey image (see the module docstring)."""
    g = cv2.GaussianBlur(gray.astype(np.float32), (3, 3), 0)
    bg = cv2.medianBlur(gray, 31).astype(np.float32)
    s = robust_sigma(subsample((g - bg).ravel(), 20_000)) + 1e-3
    feats = [(g - bg) / s]
    for r in (2, 4, 7):
        feats.append(cv2.morphologyEx(g, cv2.MORPH_BLACKHAT, disk(r)) / s)
    for sg in (1.0, 2.0, 3.0):
        gg = cv2.GaussianBlur(g, (0, 0), sg)
        dxx = cv2.Sobel(gg, cv2.CV_32F, 2, 0, ksize=3)
        dyy = cv2.Sobel(gg, cv2.CV_32F, 0, 2, ksize=3)
        dxy = cv2.Sobel(gg, cv2.CV_32F, 1, 1, ksize=3)
        tr, det = dxx + dyy, np.sqrt((dxx - dyy) ** 2 + 4 * dxy**2)
        feats.append(0.5 * (tr + det) * (sg * sg / s))
        feats.append(np.abs(0.5 * (tr - det)) * (sg * sg / s))
    mn, mx = cv2.erode(g, disk(3)), cv2.dilate(g, disk(3))
    feats.append((g - mn) / (mx - mn + 1))
    mean = cv2.blur(g, (15, 15))
    feats.append(np.sqrt(np.maximum(cv2.blur(g * g, (15, 15)) - mean * mean, 0)) / s)
    return np.stack(feats, -1)


def hysteresis(prob: np.ndarray, hi: float, lo: float, min_extent_px: int) -> np.ndarray:
    """Pixels above ``lo`` connected (8-way) to a pixel above ``hi``, in pieces at least ``min_extent_px`` long or wide."""
    n, lab, st, _ = cv2.connectedComponentsWithStats((prob > lo).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(lab[prob > hi])] = True
    keep[0] = False
    keep &= np.maximum(st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT]) >= min_extent_px
    return keep[lab]


@dataclass(frozen=True)
class CrackMLP:
    """The trained network with its feature scaling and decision thresholds."""

    net: cv2.ml.ANN_MLP
    mean: np.ndarray
    std: np.ndarray
    candidate_min: float  # only pixels with a black-hat (r = 4) of at least this many sigma are classified
    hi: float
    lo: float
    min_extent_px: int
    version: str

    @classmethod
    def load(cls, folder: Path) -> "CrackMLP":
        meta = json.loads((folder / "meta.json").read_text())
        net = cv2.ml.ANN_MLP_load(str(folder / "model.yml"))
        return cls(net, np.asarray(meta["feature_mean"], np.float32), np.asarray(meta["feature_std"], np.float32),
                   float(meta["candidate_min"]), float(meta["hi"]), float(meta["lo"]), int(meta["min_extent_px"]), meta["version"])

    def probability(self, gray: np.ndarray) -> np.ndarray:
        """Crack probability (0-1, float32) of every pixel of a uint8 grey image."""
        f = crack_features(gray)
        h, w = gray.shape
        flat = f.reshape(-1, N_FEATURES)
        cand = flat[:, 2] > self.candidate_min
        out = np.zeros(h * w, np.float32)
        if cand.any():
            _, r = self.net.predict((flat[cand] - self.mean) / self.std)
            out[cand] = np.clip((r.ravel() + 1) / 2, 0, 1)
        return out.reshape(h, w)

    def mask(self, gray: np.ndarray) -> np.ndarray:
        """Crack pixels of a uint8 grey image."""
        return hysteresis(self.probability(gray), self.hi, self.lo, self.min_extent_px)


def default_model_dir() -> Path:
    """``models/crack-mlp`` of this repository (or ``$SCHOUW_MODELS/crack-mlp``)."""
    import os

    root = Path(os.environ.get("SCHOUW_MODELS", Path(__file__).resolve().parents[3] / "models"))
    return root / "crack-mlp"
