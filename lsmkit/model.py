"""LSM: a masked-autoencoder vision transformer over the (time x channel) sensor image.

Read top to bottom: configuration and presets, fixed 2-D sine-cosine positions, one transformer
block, then the model, whose methods are the algorithm's steps: ``patchify``, ``forward_encoder``
(AIM: tokens with no visible value are dropped or attention-masked), ``forward_decoder`` (a light
decoder with a learned mask token), ``forward_loss`` (MSE on hidden, truly observed values only).

Shape vocabulary, used in every shape comment:
    B batch, T minutes, C channels (padded to a whole number of channel groups),
    N tokens (= T/pt * C/pc), P values per patch (= pt * pc), K tokens kept by the encoder,
    D encoder width, E decoder width.

Inputs are z-scored values with NaN where the sensor gave nothing; ``hidden`` marks the entries
the task hides. The patch embedding sees each patch's values *and which of them are present*
(observed and not hidden), so real gaps and single hidden channels inside a patch need no
imputation before the model runs (LSM-2's adaptive and inherited masking).

Two options make a model fit for what real devices record (issue 18, both recorded in the config):

``instance_norm``
    Each window's channels are centred and scaled by their own visible values (RevIN, as MOMENT and
    PatchTST do) before the encoder sees them, and predictions are mapped back. A device that reads
    skin temperature 3 degrees low or EDA three times high then gives the encoder the same input.
    Channels with fewer than :data:`MIN_VISIBLE` visible minutes keep the global z-score, and a scale
    is never below :data:`SCALE_FLOOR` (constant channels). The window's own level and scale of each
    channel, in global z-units, reach every token of that channel through ``stats_embed``, so that
    absolute levels can still inform the other channels (heart rate's level predicts RR intervals).
``residual``
    The decoder predicts the correction to linear interpolation in time of each channel's visible
    values (:func:`linear_fill`; held constant beyond the first and last ones, zero for a channel with
    none) instead of the values themselves: the classical fill is where the model starts, not what it
    has to learn. Each decoder token also sees the fill of its patch (``base_embed``): a decoder
    that had to rebuild the interpolation from the visible tokens could not correct it, and stayed
    at linear interpolation (benchmarks/results/studies/residual_decoder.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ModelConfig", "PRESETS", "get_config", "LSM", "sincos_2d", "window_statistics", "linear_fill"]

MIN_VISIBLE = 3  # visible minutes a channel needs for its own instance statistics
SCALE_FLOOR = 0.2  # smallest instance scale, in global z-units: constant channels are not blown up


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of an :class:`LSM`; the defaults are the paper's 2M model.

    Parameters
    ----------
    width : int, default 192
        Encoder width D.
    depth : int, default 4
        Number of encoder blocks.
    heads : int, default 3
        Attention heads per encoder block; must divide ``width``.
    decoder_width : int, default 128
        Decoder width E.
    decoder_depth : int, default 2
        Number of decoder blocks.
    decoder_heads : int, default 4
        Attention heads per decoder block; must divide ``decoder_width``.
    patch : tuple of (int, int), default (10, 5)
        Patch size, minutes x channels.
    n_channels : int, default 26
        Number of channels C of the input windows.
    mlp_ratio : float, default 4.0
        Width of each block's MLP relative to the block's width.
    instance_norm : bool, default False
        Normalise each window's channels by their own visible values (see the module docstring).
    residual : bool, default False
        The decoder predicts the correction to linear interpolation (see the module docstring).

    See Also
    --------
    get_config : A preset from :data:`PRESETS`, with fields replaced.
    """

    width: int = 192
    depth: int = 4
    heads: int = 3
    decoder_width: int = 128
    decoder_depth: int = 2
    decoder_heads: int = 4
    patch: tuple[int, int] = (10, 5)  # minutes x channels
    n_channels: int = 26
    mlp_ratio: float = 4.0
    instance_norm: bool = False  # per-window channel normalisation over visible values (module docstring)
    residual: bool = False  # the decoder predicts the correction to linear interpolation


# The paper's sizes (LSM_REFERENCE.md) and smaller ones for CPU work.
PRESETS: dict[str, ModelConfig] = {
    "micro": ModelConfig(width=32, depth=2, heads=2, decoder_width=32, decoder_depth=1, decoder_heads=2),
    "tiny": ModelConfig(width=64, depth=2, heads=2, decoder_width=64, decoder_depth=1, decoder_heads=2),
    "mini": ModelConfig(width=128, depth=3, heads=4, decoder_width=96, decoder_depth=1, decoder_heads=4),
    "2M": ModelConfig(width=192, depth=4, heads=3, decoder_width=128, decoder_depth=2),
    "7M": ModelConfig(width=256, depth=8, heads=4, decoder_width=192, decoder_depth=2),
    "25M": ModelConfig(width=384, depth=12, heads=6, decoder_width=256, decoder_depth=4),
    "110M": ModelConfig(width=768, depth=12, heads=12, decoder_width=512, decoder_depth=8, decoder_heads=16),
    "328M": ModelConfig(width=1024, depth=24, heads=16, decoder_width=512, decoder_depth=8, decoder_heads=16),
}


def get_config(name: str, **overrides) -> ModelConfig:
    """Return the preset called ``name``, with any fields replaced by ``overrides``.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS` (``"micro"``, ``"tiny"``, ``"mini"``, ``"2M"``, ``"7M"``, ``"25M"``,
        ``"110M"`` or ``"328M"``).
    **overrides
        :class:`ModelConfig` fields to replace.

    Returns
    -------
    ModelConfig
        The preset's configuration with the overrides applied.

    Raises
    ------
    ValueError
        If ``name`` is not a preset.

    Examples
    --------
    >>> get_config("tiny", instance_norm=True, residual=True)
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)


def sincos_2d(n_time: int, n_group: int, dim: int) -> torch.Tensor:
    """Fixed 2-D sine-cosine positions, half the width for time and half for channel group.

    Parameters
    ----------
    n_time : int
        Number of patches along time.
    n_group : int
        Number of channel groups.
    dim : int
        Width of each position code; must be divisible by 4.

    Returns
    -------
    torch.Tensor
        Positions (N, dim), N = ``n_time * n_group``, with token n = time_index * n_group +
        group_index, matching :meth:`LSM.patchify`.

    Raises
    ------
    ValueError
        If ``dim`` is not divisible by 4.
    """
    if dim % 4:
        raise ValueError(f"width must be divisible by 4 for 2-D sine-cosine positions, got {dim}")

    def sincos_1d(positions: torch.Tensor, d: int) -> torch.Tensor:
        freq = 1.0 / 10000 ** (torch.arange(d // 2, dtype=torch.float64) / (d / 2))
        angle = positions[:, None].double() * freq[None, :]  # (L, d/2)
        return torch.cat([angle.sin(), angle.cos()], dim=1)  # (L, d)

    t, g = torch.meshgrid(torch.arange(n_time), torch.arange(n_group), indexing="ij")
    pos = torch.cat([sincos_1d(t.flatten(), dim // 2), sincos_1d(g.flatten(), dim // 2)], dim=1)
    return pos.float()  # (N, dim)


def window_statistics(x: torch.Tensor, visible: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each window's level and scale per channel over its visible values.

    Parameters
    ----------
    x : torch.Tensor
        Windows (B, T, C), with anything (NaN included) where ``visible`` is False.
    visible : torch.Tensor
        Boolean (B, T, C), the values the statistics may use.

    Returns
    -------
    mean, scale, own : torch.Tensor
        Each (B, C). Channels with fewer than :data:`MIN_VISIBLE` visible minutes get the global
        statistics (0, 1) and ``own`` False; a scale is at least :data:`SCALE_FLOOR`.
    """
    v = visible.to(x.dtype)
    n = v.sum(dim=1)  # (B, C)
    values = torch.where(visible, x, torch.zeros_like(x))
    mean = values.sum(dim=1) / n.clamp(min=1)
    var = (((values - mean[:, None]) * v) ** 2).sum(dim=1) / n.clamp(min=1)
    own = n >= MIN_VISIBLE
    mean = torch.where(own, mean, torch.zeros_like(mean))
    scale = torch.where(own, var.sqrt().clamp(min=SCALE_FLOOR), torch.ones_like(mean))
    return mean, scale, own


def linear_fill(x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Linear interpolation in time of each window's and channel's visible values.

    Held constant before the first and after the last visible minute; zero (the normalised mean)
    for a channel with none. The same rule as :class:`lsmkit.baselines.Linear`.

    Parameters
    ----------
    x : torch.Tensor
        Windows (B, T, C), with anything (NaN included) where ``visible`` is False.
    visible : torch.Tensor
        Boolean (B, T, C), the values to interpolate between.

    Returns
    -------
    torch.Tensor
        The fill (B, T, C).
    """
    B, T, C = x.shape
    t = torch.arange(T, device=x.device).view(1, T, 1).expand(B, T, C)
    before = torch.where(visible, t, torch.full_like(t, -1)).cummax(dim=1).values  # last visible <= t, or -1
    after = torch.where(visible, t, torch.full_like(t, T)).flip(1).cummin(dim=1).values.flip(1)  # first >= t, or T
    values = torch.where(visible, x, torch.zeros_like(x))
    left = values.gather(1, before.clamp(min=0))
    right = values.gather(1, after.clamp(max=T - 1))
    weight = (t - before).to(x.dtype) / (after - before).clamp(min=1).to(x.dtype)
    between = left + (right - left) * weight
    has_left, has_right = before >= 0, after < T
    return torch.where(has_left & has_right, between,
                       torch.where(has_left, left, torch.where(has_right, right, torch.zeros_like(x))))


class Block(nn.Module):
    """Pre-norm transformer block; ``key_mask`` (B, K) hides keys that carry no information."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float):
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        B, K, D = x.shape
        qkv = self.qkv(self.norm1(x)).view(B, K, 3, self.heads, D // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # (B, K, 3, H, D/H) -> 3 x (B, H, K, D/H)
        attn_mask = None if key_mask is None else key_mask[:, None, None, :]  # (B, 1, 1, K)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        x = x + self.proj(y.transpose(1, 2).reshape(B, K, D))  # (B, H, K, D/H) -> (B, K, D)
        return x + self.mlp(self.norm2(x))


class LSM(nn.Module):
    """Masked autoencoder over per-minute sensor windows.

    Parameters
    ----------
    config : ModelConfig, optional
        The architecture; the default is the paper's 2M model.

    Attributes
    ----------
    config : ModelConfig
        The architecture.
    n_groups : int
        Number of channel groups G (``n_channels`` padded up to whole patches).
    """

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        pt, pc = config.patch
        P, D, E = pt * pc, config.width, config.decoder_width
        self.n_groups = math.ceil(config.n_channels / pc)
        # Values and their presence flags go in together: (B, N, 2P) -> (B, N, D)
        self.patch_embed = nn.Linear(2 * P, D)
        # Instance normalisation: each token also sees its channels' window level, log scale and
        # whether they are the window's own: (B, N, 3 pc) -> (B, N, D)
        self.stats_embed = nn.Linear(3 * pc, D) if config.instance_norm else None
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))  # always visible: no row attends to nothing
        self.blocks = nn.ModuleList(Block(D, config.heads, config.mlp_ratio) for _ in range(config.depth))
        self.norm = nn.LayerNorm(D)
        self.decoder_embed = nn.Linear(D, E)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, E))
        self.decoder_blocks = nn.ModuleList(
            Block(E, config.decoder_heads, config.mlp_ratio) for _ in range(config.decoder_depth)
        )
        self.decoder_norm = nn.LayerNorm(E)
        self.decoder_pred = nn.Linear(E, P)
        # Residual models: every decoder token also sees the fill it corrects, (B, N, P) -> (B, N, E);
        # without it the decoder would have to rebuild the interpolation from the visible tokens exactly
        self.base_embed = nn.Linear(P, E) if config.residual else None
        self._init_weights()

    def _init_weights(self):
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.config.residual:  # start as linear interpolation exactly: no correction yet
            nn.init.zeros_(self.decoder_pred.weight)

    # ---- patches ---------------------------------------------------------------------------
    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """Cut windows into patches, padding time and channels up to whole patches with zeros.

        Parameters
        ----------
        x : torch.Tensor
            Windows (B, T, C).

        Returns
        -------
        torch.Tensor
            Patches (B, N, P), token n = time_index * G + group_index.
        """
        pt, pc = self.config.patch
        B, T, C = x.shape
        gt = math.ceil(T / pt)
        x = F.pad(x, (0, self.n_groups * pc - C, 0, gt * pt - T))  # (B, gt*pt, G*pc)
        x = x.view(B, gt, pt, self.n_groups, pc).permute(0, 1, 3, 2, 4)  # (B, gt, G, pt, pc)
        return x.reshape(B, gt * self.n_groups, pt * pc)  # (B, N, P)

    def unpatchify(self, patches: torch.Tensor, T: int, C: int) -> torch.Tensor:
        """Put patches back together into windows, dropping the padding.

        Parameters
        ----------
        patches : torch.Tensor
            Patches (B, N, P).
        T : int
            Window length in minutes.
        C : int
            Number of channels.

        Returns
        -------
        torch.Tensor
            Windows (B, T, C).
        """
        pt, pc = self.config.patch
        B, N, _ = patches.shape
        gt = N // self.n_groups
        x = patches.view(B, gt, self.n_groups, pt, pc).permute(0, 1, 3, 2, 4)  # (B, gt, pt, G, pc)
        return x.reshape(B, gt * pt, self.n_groups * pc)[:, :T, :C]  # (B, T, C)

    def positions(self, n_tokens: int, width: int, device) -> torch.Tensor:
        """Fixed 2-D sine-cosine positions of the tokens (see :func:`sincos_2d`).

        Parameters
        ----------
        n_tokens : int
            Number of tokens N, a whole number of time patches times G.
        width : int
            Width of each position code (D for the encoder, E for the decoder).
        device : torch.device or str
            Where the positions are put.

        Returns
        -------
        torch.Tensor
            Positions (N, width).
        """
        return sincos_2d(n_tokens // self.n_groups, self.n_groups, width).to(device)  # (N, width)

    # ---- encoder ---------------------------------------------------------------------------
    def forward_encoder(self, values: torch.Tensor, present: torch.Tensor, every_block: bool = False,
                        stats: torch.Tensor | None = None):
        """Encode the tokens that hold at least one present value.

        Tokens with nothing present are dropped, down to the largest visible count in the batch
        (static shapes per batch); the remaining invisible ones are hidden from attention by the
        key mask.

        Parameters
        ----------
        values : torch.Tensor
            Patch values (B, N, P).
        present : torch.Tensor
            Boolean (B, N, P), which values are present (observed and not hidden).
        every_block : bool, default False
            Return each block's output as well as the final one.
        stats : torch.Tensor, optional
            The tokens' channel statistics (B, N, 3 pc), required when the model normalises per
            window (``instance_norm``).

        Returns
        -------
        latent : torch.Tensor or list of torch.Tensor
            The latent (B, 1+K, D) with the class token first. With ``every_block``, a list: each
            block's output, then the final normed one.
        keep : torch.Tensor
            The kept token indices (B, K).
        key_mask : torch.Tensor
            Boolean key mask (B, 1+K), False for kept tokens with nothing present.
        """
        B, N, _ = values.shape
        tokens = self.patch_embed(torch.cat([values * present, present.float()], dim=-1))  # (B, N, D)
        tokens = tokens + self.positions(N, tokens.shape[-1], tokens.device)
        if self.stats_embed is not None:
            tokens = tokens + self.stats_embed(stats)
        visible = present.any(dim=-1)  # (B, N)
        K = int(visible.sum(dim=1).max())
        keep = torch.sort((~visible).to(torch.int8), dim=1, stable=True).indices[:, :K]  # visible first, (B, K)
        tokens = torch.gather(tokens, 1, keep[..., None].expand(-1, -1, tokens.shape[-1]))  # (B, K, D)
        key_mask = torch.gather(visible, 1, keep)  # (B, K)
        x = torch.cat([self.cls_token.expand(B, -1, -1), tokens], dim=1)  # (B, 1+K, D)
        key_mask = torch.cat([key_mask.new_ones(B, 1), key_mask], dim=1)  # (B, 1+K)
        outputs = []
        for block in self.blocks:
            x = block(x, key_mask)
            outputs.append(x)
        latent = self.norm(x)
        return (outputs + [latent] if every_block else latent), keep, key_mask

    # ---- decoder ---------------------------------------------------------------------------
    def forward_decoder(self, latent: torch.Tensor, keep: torch.Tensor, key_mask: torch.Tensor, n_tokens: int,
                        base: torch.Tensor | None = None):
        """Predict every patch's values: encoded tokens where visible, the mask token elsewhere.

        Parameters
        ----------
        latent : torch.Tensor
            The encoder's latent (B, 1+K, D), class token first.
        keep : torch.Tensor
            The kept token indices (B, K).
        key_mask : torch.Tensor
            Boolean key mask (B, 1+K) from :meth:`forward_encoder`.
        n_tokens : int
            Number of tokens N.
        base : torch.Tensor, optional
            For a residual model, the classical fill (B, N, P) each token's prediction corrects.

        Returns
        -------
        torch.Tensor
            Predicted patches (B, N, P); for a residual model, the correction to ``base``.
        """
        y = self.decoder_embed(latent)  # (B, 1+K, E)
        B, _, E = y.shape
        full = self.mask_token.expand(B, n_tokens, E).clone()  # (B, N, E)
        encoded = torch.where(key_mask[:, 1:, None], y[:, 1:], self.mask_token)  # (B, K, E)
        full = full.scatter(1, keep[..., None].expand(-1, -1, E), encoded)
        full = full + self.positions(n_tokens, E, y.device)
        if self.base_embed is not None:
            full = full + self.base_embed(base)
        x = torch.cat([y[:, :1], full], dim=1)  # (B, 1+N, E)
        for block in self.decoder_blocks:
            x = block(x)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:]  # (B, N, P)

    # ---- loss ------------------------------------------------------------------------------
    @staticmethod
    def forward_loss(target: torch.Tensor, pred: torch.Tensor, scored: torch.Tensor) -> torch.Tensor:
        """MSE over the entries that are hidden and truly observed.

        Parameters
        ----------
        target : torch.Tensor
            Patchified z-scored windows (B, N, P).
        pred : torch.Tensor
            The decoder's prediction (B, N, P), in any floating dtype.
        scored : torch.Tensor
            (B, N, P) 1 where an entry is hidden and truly observed, else 0.

        Returns
        -------
        torch.Tensor
            The scalar loss, reduced in float32 whatever the autocast; zero (keeping the graph) when
            nothing is scored.
        """
        n = scored.sum()
        if n == 0:
            return pred.sum() * 0.0  # keeps the graph (and DDP's gradient sync) intact
        return ((pred.float() - target) ** 2 * scored).sum() / n  # reduced in float32, whatever the autocast

    def prepare(self, x: torch.Tensor, hidden: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Compute the encoder's inputs for z-scored windows.

        Parameters
        ----------
        x : torch.Tensor
            Z-scored windows (B, T, C), NaN for missing.
        hidden : torch.Tensor, optional
            Boolean task mask (B, T, C); nothing hidden if None.

        Returns
        -------
        dict of str to torch.Tensor
            ``values`` (B, N, P), the patch values; ``present`` (B, N, P), which of them are present
            (observed and not hidden); with the config's options the instance statistics (``mean``,
            ``scale`` (B, 1, C), ``stats`` (B, N, 3 pc)) and the classical fill the decoder corrects
            (``base`` (B, N, P)), all in the instance's units.

        Raises
        ------
        ValueError
            If ``x`` does not have the config's number of channels.
        """
        if x.shape[-1] != self.config.n_channels:
            raise ValueError(f"expected {self.config.n_channels} channels, got {x.shape[-1]}")
        visible = ~torch.isnan(x) if hidden is None else ~torch.isnan(x) & ~hidden
        inputs = {}
        if self.config.instance_norm:
            mean, scale, own = window_statistics(x, visible)  # (B, C) each
            inputs["mean"], inputs["scale"] = mean[:, None], scale[:, None]  # (B, 1, C)
            x = (x - inputs["mean"]) / inputs["scale"]
            per_channel = torch.stack([mean, scale.log(), own.to(x.dtype)], dim=-1)  # (B, C, 3)
            inputs["stats"] = self._token_stats(per_channel, x.shape[1])
        inputs["present"] = self.patchify(visible.float()) > 0  # (B, N, P)
        inputs["values"] = self.patchify(torch.nan_to_num(x))
        if self.config.residual:
            inputs["base"] = self.patchify(linear_fill(x, visible))
        return inputs

    def _token_stats(self, per_channel: torch.Tensor, T: int) -> torch.Tensor:
        """(B, C, 3) channel statistics -> (B, N, 3 pc): each token gets those of its channel group."""
        pt, pc = self.config.patch
        B, C, S = per_channel.shape
        grouped = F.pad(per_channel, (0, 0, 0, self.n_groups * pc - C)).view(B, self.n_groups, pc * S)  # (B, G, 3 pc)
        gt = math.ceil(T / pt)
        return grouped[:, None].expand(B, gt, self.n_groups, pc * S).reshape(B, gt * self.n_groups, pc * S)

    def forward(self, x: torch.Tensor, hidden: torch.Tensor):
        """Loss and reconstruction for z-scored windows with NaN for missing.

        Parameters
        ----------
        x : torch.Tensor
            Z-scored windows (B, T, C), NaN for missing.
        hidden : torch.Tensor
            Boolean task mask (B, T, C).

        Returns
        -------
        loss : torch.Tensor
            Scalar MSE over the entries that are hidden and truly observed.
        reconstruction : torch.Tensor
            Reconstruction (B, T, C).

        Notes
        -----
        Both outputs are in the z-units of ``x``, whatever the model normalises to inside.
        """
        B, T, C = x.shape
        inputs = self.prepare(x, hidden)
        scored = self.patchify((~torch.isnan(x) & hidden).float()) > 0
        latent, keep, key_mask = self.forward_encoder(inputs["values"], inputs["present"], stats=inputs.get("stats"))
        pred = self.forward_decoder(latent, keep, key_mask, inputs["values"].shape[1],
                                    base=inputs.get("base")).float()  # (B, N, P)
        if self.config.residual:
            pred = pred + inputs["base"]
        if self.config.instance_norm:  # back to the z-units of x: (B, N, P) -> (B, T, C) -> (B, N, P)
            pred = self.patchify(self.unpatchify(pred, T, C) * inputs["scale"] + inputs["mean"])
        loss = self.forward_loss(self.patchify(torch.nan_to_num(x)), pred, scored)
        return loss, self.unpatchify(pred, T, C)

    @torch.no_grad()
    def embed(self, x: torch.Tensor, hidden: torch.Tensor | None = None, every_block: bool = False):
        """Token embeddings and the class token of z-scored windows.

        Parameters
        ----------
        x : torch.Tensor
            Z-scored windows (B, T, C), NaN for missing.
        hidden : torch.Tensor, optional
            Boolean mask (B, T, C) of values to hide; nothing hidden if None.
        every_block : bool, default False
            Return every block's embeddings, not just the final ones.

        Returns
        -------
        tokens : torch.Tensor or list of torch.Tensor
            Token embeddings (B, N, D), NaN for tokens that held no present value.
        classes : torch.Tensor or list of torch.Tensor
            The class token (B, D).

        Notes
        -----
        With ``every_block``, both outputs are lists: each block's output (before the final norm),
        then the final embedding.
        """
        inputs = self.prepare(x, hidden)
        values = inputs["values"]
        latents, keep, key_mask = self.forward_encoder(values, inputs["present"], every_block=True,
                                                       stats=inputs.get("stats"))
        B, N = values.shape[:2]
        tokens, classes = [], []
        for latent in latents if every_block else latents[-1:]:
            D = latent.shape[-1]
            full = latent.new_full((B, N, D), float("nan"))
            encoded = torch.where(key_mask[:, 1:, None], latent[:, 1:], float("nan"))
            tokens.append(full.scatter(1, keep[..., None].expand(-1, -1, D), encoded))  # (B, K, D) -> (B, N, D)
            classes.append(latent[:, 0])
        return (tokens, classes) if every_block else (tokens[0], classes[0])

    def num_parameters(self) -> int:
        """Return the number of parameters.

        Returns
        -------
        int
            Total number of elements of all parameters.
        """
        return sum(p.numel() for p in self.parameters())
