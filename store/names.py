"""Random run names in MLflow's ``adjective-animal-NNN`` shape."""

from __future__ import annotations

import random

ADJECTIVES = (
    "agile amazing bold brave bright calm capable clever crisp curious daring eager "
    "fearless gentle glowing graceful honest humble jolly keen lively lucky merry mighty "
    "nimble polite quick quiet rare rebel secret silent smart steady sunny swift tidy "
    "upbeat vast warm wise witty zealous"
).split()
ANIMALS = (
    "ant bat bear bee bison boar cat cod colt crab crane crow deer dog dove duck eel "
    "elk finch fox frog gnat goat hare hawk hen heron horse ibis jay koala lamb lark "
    "lion lynx mole moth mouse newt owl ox panda pig pony ram rat robin seal shark "
    "sheep slug snail stork swan tern toad trout whale wolf wren yak"
).split()


def random_run_name(rng: random.Random | None = None) -> str:
    r = rng or random
    return f"{r.choice(ADJECTIVES)}-{r.choice(ANIMALS)}-{r.randint(0, 999)}"
