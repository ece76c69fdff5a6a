#!/usr/bin/python3
# Reference values for the update rules of keras 2.13's Nadam, Adamax, AdamW
# and Adadelta, for selu's tests: tests/testthat/fixtures/optimizers.json.
# (Ftrl has no counterpart in torch.optim: selu's tests check it against
# its formula alone.)
#
# Run from the package root with Debian's Python, which has torch 1.13 (the
# `python3` first on the PATH may not):
#
#     /usr/bin/python3 tests/testthat/scripts/make-optimizer-references.py          # writes the file
#     /usr/bin/python3 tests/testthat/scripts/make-optimizer-references.py --check  # checks, writes nothing
#
# Each case steps two weights (a 3 x 2 kernel and a bias of 2) three times,
# with fixed gradients, in float64. Where torch.optim has keras's rule, the
# values are torch.optim's; where it has not, keras's formulas (from keras
# 2.13's optimizers/*.py update_step()) are computed by hand on torch
# tensors. Every case says which in its "reference". How they compare:
#   Nadam: by hand. torch's momentum schedule is mu_t = beta_1 (1 -
#     0.96^(t momentum_decay) / 2), keras's u_t = beta_1 (1 - 0.96^t / 2):
#     the same with momentum_decay 1 (torch's default 0.004 is another
#     schedule). But torch 1.13's NAdam takes the product of the schedule
#     for step t + 1 as mu_1 ... mu_t mu_t mu_{t+1}, mu_t twice, where keras
#     has u_1 ... u_t u_{t+1}, so its steps are not keras's.
#   Adamax: torch adds epsilon to |g| inside the max, u = max(beta_2 u,
#     |g| + eps); keras adds it outside, to u = max(beta_2 u, |g|). They
#     agree for epsilon 0 only: torch.optim.Adamax for that case, by hand
#     for keras's default epsilon.
#   AdamW: torch adds epsilon to sqrt(v) / sqrt(1 - beta_2^t), keras ("epsilon
#     hat") to sqrt(v). They agree for epsilon 0: torch.optim.AdamW for those
#     cases (with and without amsgrad), by hand for keras's default epsilon.
#     Both decay the weights by lr * weight_decay before the step.
#   Adadelta: torch.optim.Adadelta is keras's rule.
# Every torch.optim case is also computed by hand, and the two must agree to
# 1e-14 (relative), or the script fails: the hand-written rules are checked
# where torch can check them.
#
# JSON layout: matrices as lists of rows, vectors as lists, floats written
# with repr() (they read back as the same double). Keys, in order:
#   generator, conventions: text.
#   cases: each {label, class_name, config, reference, weights, gradients,
#     steps}: config is keras 2.13's get_config() of the optimizer (its
#     keys, in its order); reference says where the values come from;
#     weights the initial weights {"dense/kernel": (3, 2), "dense/bias":
#     (2)}; gradients a list of three such, one per step; steps a list of
#     three such, the weights after each step.

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "optimizers.json"
GENERATOR = "tests/testthat/scripts/make-optimizer-references.py"
CONVENTIONS = (
    "keras 2.13 update rules in float64, three steps with the given gradients from the "
    "given weights. Matrices are lists of rows. 'reference' names torch.optim where it "
    "has keras's rule, else keras's formulas by hand on torch tensors.")
STEPS = 3
KEYS = ["dense/kernel", "dense/bias"]


def keras_config(class_name, **args):
    # keras 2.13's get_config(): the base keys, then the learning rate and
    # the optimizer's own, with keras's defaults for what is not given.
    own = {"Nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07},
           "Adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07},
           "AdamW": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                     "amsgrad": False},
           "Adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-07}}[class_name]
    config = {"name": class_name, "weight_decay": 0.004 if class_name == "AdamW" else None,
              "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
              "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": False,
              "is_legacy_optimizer": False, **own}
    unknown = set(args) - set(config)
    assert not unknown, unknown
    config.update(args)
    return config


# --- keras's rules by hand, on torch tensors ---------------------------------
# Each takes the weight w, its gradient g, its slots s (a dict, updated in
# place), the config c and the step t = iterations + 1, and gives the new
# weight; weight decay comes first, w - w * weight_decay * lr.

def decayed(w, c):
    return w - w * c["weight_decay"] * c["learning_rate"] if c["weight_decay"] else w


def nadam_u(c, t):
    return c["beta_1"] * (1.0 - 0.5 * 0.96 ** t)


def nadam_rule(w, g, s, c, t):
    # u_t = beta_1 (1 - 0.96^t / 2); P_t = u_1 ... u_t (kept in s["product"]);
    # m, v as Adam's; m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t);
    # w <- w - lr m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)
    w = decayed(w, c)
    u, u_next = nadam_u(c, t), nadam_u(c, t + 1)
    s["product"] = s["product"] * u
    s["m"] = s["m"] + (g - s["m"]) * (1 - c["beta_1"])
    s["v"] = s["v"] + (g * g - s["v"]) * (1 - c["beta_2"])
    m_hat = u_next * s["m"] / (1 - s["product"] * u_next) + (1 - u) * g / (1 - s["product"])
    v_hat = s["v"] / (1 - c["beta_2"] ** t)
    return w - (m_hat * c["learning_rate"]) / (torch.sqrt(v_hat) + c["epsilon"])


def adamax_rule(w, g, s, c, t):
    # m as Adam's; u <- max(beta_2 u, |g|);
    # w <- w - lr m / ((1 - beta_1^t) (u + epsilon))
    w = decayed(w, c)
    s["m"] = s["m"] + (g - s["m"]) * (1 - c["beta_1"])
    s["u"] = torch.maximum(c["beta_2"] * s["u"], torch.abs(g))
    return w - (c["learning_rate"] * s["m"]) / ((1 - c["beta_1"] ** t) * (s["u"] + c["epsilon"]))


def adamw_rule(w, g, s, c, t):
    # Adam's rule after the weight decay: m <- m + (g - m)(1 - beta_1);
    # v <- v + (g^2 - v)(1 - beta_2); amsgrad: vhat <- max(vhat, v) in place
    # of v; w <- w - m alpha / (sqrt(v) + epsilon), alpha = lr sqrt(1 -
    # beta_2^t) / (1 - beta_1^t)
    w = decayed(w, c)
    alpha = c["learning_rate"] * (1 - c["beta_2"] ** t) ** 0.5 / (1 - c["beta_1"] ** t)
    s["m"] = s["m"] + (g - s["m"]) * (1 - c["beta_1"])
    s["v"] = s["v"] + (g * g - s["v"]) * (1 - c["beta_2"])
    v = s["v"]
    if c["amsgrad"]:
        s["vhat"] = torch.maximum(s["vhat"], s["v"])
        v = s["vhat"]
    return w - (s["m"] * alpha) / (torch.sqrt(v) + c["epsilon"])


def adadelta_rule(w, g, s, c, t):
    # a <- rho a + (1 - rho) g^2; d = -sqrt(D + epsilon) g / sqrt(a + epsilon);
    # D <- rho D + (1 - rho) d^2; w <- w + lr d
    w = decayed(w, c)
    rho, eps = c["rho"], c["epsilon"]
    s["a"] = rho * s["a"] + (1 - rho) * g * g
    delta = -torch.sqrt(s["d"] + eps) * g / torch.sqrt(s["a"] + eps)
    s["d"] = rho * s["d"] + (1 - rho) * delta * delta
    return w + c["learning_rate"] * delta


RULES = {"Nadam": nadam_rule, "Adamax": adamax_rule, "AdamW": adamw_rule,
         "Adadelta": adadelta_rule}


def by_hand(class_name, c, weights, gradients):
    ws = {k: torch.tensor(v) for k, v in weights.items()}
    slots = {k: {"m": torch.zeros_like(w), "v": torch.zeros_like(w), "u": torch.zeros_like(w),
                 "vhat": torch.zeros_like(w), "a": torch.zeros_like(w), "d": torch.zeros_like(w),
                 "product": 1.0} for k, w in ws.items()}
    out = []
    for t, grads in enumerate(gradients, start=1):
        ws = {k: RULES[class_name](ws[k], torch.tensor(grads[k]), slots[k], c, t) for k in KEYS}
        out.append({k: ws[k].numpy().copy() for k in KEYS})
    return out


# --- torch.optim -------------------------------------------------------------

def torch_optimizer(class_name, c, params):
    lr, wd = c["learning_rate"], c["weight_decay"] or 0.0
    if class_name == "Adamax":
        assert wd == 0 and c["epsilon"] == 0
        return torch.optim.Adamax(params, lr=lr, betas=(c["beta_1"], c["beta_2"]), eps=0.0)
    if class_name == "AdamW":
        assert c["epsilon"] == 0
        return torch.optim.AdamW(params, lr=lr, betas=(c["beta_1"], c["beta_2"]), eps=0.0,
                                 weight_decay=wd, amsgrad=c["amsgrad"])
    if class_name == "Adadelta":
        assert wd == 0
        return torch.optim.Adadelta(params, lr=lr, rho=c["rho"], eps=c["epsilon"])
    raise ValueError(class_name)


def with_torch(class_name, c, weights, gradients):
    params = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
    opt = torch_optimizer(class_name, c, [params[k] for k in KEYS])
    out = []
    for grads in gradients:
        for k in KEYS:
            params[k].grad = torch.tensor(grads[k])
        opt.step()
        out.append({k: params[k].detach().numpy().copy() for k in KEYS})
    return out


# --- the cases ---------------------------------------------------------------

CASES = [
    ("nadam", "hand", keras_config("Nadam", learning_rate=0.01)),
    ("nadam-beta", "hand", keras_config("Nadam", learning_rate=0.1, beta_1=0.5, beta_2=0.9,
                                        epsilon=1e-3)),
    ("adamax-epsilon-0", "torch", keras_config("Adamax", learning_rate=0.01, epsilon=0.0)),
    ("adamax", "hand", keras_config("Adamax", learning_rate=0.01)),
    ("adamw-epsilon-0", "torch", keras_config("AdamW", learning_rate=0.01, weight_decay=0.1,
                                              epsilon=0.0)),
    ("adamw-amsgrad-epsilon-0", "torch",
     keras_config("AdamW", learning_rate=0.01, weight_decay=0.1, epsilon=0.0, amsgrad=True)),
    ("adamw", "hand", keras_config("AdamW", learning_rate=0.01)),
    ("adadelta", "torch", keras_config("Adadelta", learning_rate=1.0)),
    ("adadelta-rho", "torch", keras_config("Adadelta", learning_rate=0.5, rho=0.5, epsilon=1e-3)),
]

REFERENCE = {
    "torch": {"Adamax": "torch.optim.Adamax (keras's rule for epsilon 0)",
              "AdamW": "torch.optim.AdamW (keras's rule for epsilon 0)",
              "Adadelta": "torch.optim.Adadelta"},
    "hand": "keras 2.13's update_step() by hand on torch tensors (torch.optim's rule differs)",
}


def problem_data():
    # Gradients without zeros: Adamax and AdamW with epsilon 0 divide by
    # their size at the first step.
    rng = np.random.default_rng(20240521)
    weights = {"dense/kernel": rng.normal(size=(3, 2)), "dense/bias": 0.1 * rng.normal(size=2)}
    gradients = []
    for _ in range(STEPS):
        grads = {k: rng.normal(size=w.shape) for k, w in weights.items()}
        for g in grads.values():
            g[np.abs(g) < 0.05] = 0.05
        gradients.append(grads)
    # a sign change and a large gradient along the way
    gradients[1]["dense/kernel"][0, 0] = -3.0
    gradients[2]["dense/bias"][1] = 2.5
    return weights, gradients


def as_json(x):
    if isinstance(x, dict):
        return {k: as_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [as_json(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


def build():
    weights, gradients = problem_data()
    cases = []
    for label, source, config in CASES:
        class_name = config["name"]
        hand = by_hand(class_name, config, weights, gradients)
        if source == "torch":
            steps = with_torch(class_name, config, weights, gradients)
            for k in range(STEPS):
                for key in KEYS:
                    scale = np.maximum(np.abs(steps[k][key]), 1.0)
                    worst = np.max(np.abs(steps[k][key] - hand[k][key]) / scale)
                    if worst > 1e-14:
                        sys.exit(f"{label}, step {k + 1}, {key}: torch.optim and keras's rule "
                                 f"by hand differ by {worst:.3g}")
            reference = REFERENCE["torch"][class_name]
        else:
            steps = hand
            reference = REFERENCE["hand"]
        cases.append({"label": label, "class_name": class_name, "config": config,
                      "reference": reference, "weights": weights, "gradients": gradients,
                      "steps": steps})
    return {"generator": GENERATOR, "conventions": CONVENTIONS, "cases": as_json(cases)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="compare with the file on disk and write nothing")
    args = parser.parse_args()
    text = json.dumps(build(), indent=1) + "\n"
    if args.check:
        if FIXTURE.read_text() != text:
            sys.exit(f"{FIXTURE} differs from what this script writes")
        print("optimizers.json is up to date; torch.optim and the rules by hand agree")
        return
    FIXTURE.write_text(text)
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
