"""Recipes: quantities with units, lists and headings, like a datasheet's specifications,
yet no product's. The router learns to refuse them, from recipes written here from a seed."""

from __future__ import annotations

import random
from pathlib import Path

from pipeline.doctypes.base import Source, written_sources

FOLDER = Path.home() / ".cache" / "docket" / "generated" / "recipes-v1"
TRAIN, DEV, FIRST_SEED = 60, 20, 600_000

DISHES = ("Lemon drizzle cake", "Chicken curry", "Vegetable lasagne", "Banana bread",
          "Minestrone soup", "Beef stew", "Pancakes", "Mushroom risotto", "Apple crumble",
          "Thai green curry", "Focaccia", "Chocolate brownies", "Shepherd's pie", "Falafel")
INGREDIENTS = (("plain flour", "g", (100, 500)), ("butter", "g", (25, 250)),
               ("caster sugar", "g", (50, 250)), ("eggs", "", (1, 4)),
               ("milk", "ml", (100, 600)), ("olive oil", "tbsp", (1, 4)),
               ("onion, chopped", "", (1, 2)), ("garlic cloves", "", (1, 4)),
               ("chopped tomatoes", "g", (400, 800)), ("vegetable stock", "ml", (250, 1500)),
               ("salt", "tsp", (1, 2)), ("baking powder", "tsp", (1, 3)),
               ("arborio rice", "g", (200, 350)), ("chicken thighs", "g", (400, 900)),
               ("coconut milk", "ml", (200, 400)), ("lemon, zest and juice", "", (1, 2)))
STEPS = ("Preheat the oven to {t} °C (gas mark {g}).", "Melt the butter in a large pan.",
         "Add the onion and cook for {m} minutes until soft.", "Stir in the remaining "
         "ingredients and bring to the boil.", "Simmer gently for {m} minutes.",
         "Pour into a greased {c} cm tin and bake for {m} minutes.",
         "Leave to cool for 10 minutes before serving.", "Season to taste and serve hot.")


def recipe(seed: int) -> str:
    rng = random.Random(seed)
    dish = rng.choice(DISHES)
    lines = [f"# {dish}", "", f"Serves {rng.randint(2, 8)} · Prep {rng.randint(10, 40)} min · "
             f"Cook {rng.randint(15, 90)} min · {rng.randint(180, 650)} kcal per portion", "",
             "## Ingredients", ""]
    for name, unit, (low, high) in rng.sample(INGREDIENTS, rng.randint(5, 10)):
        amount = rng.randint(low, high)
        lines.append(f"- {amount} {unit} {name}".replace("  ", " ") if unit else
                     f"- {amount} {name}")
    if rng.random() < 0.5:  # some print a nutrition table
        lines += ["", "## Nutrition (per portion)", "", "| Nutrient | Amount | Unit |",
                  "|---|---|---|", f"| Energy | {rng.randint(700, 2700)} | kJ |",
                  f"| Fat | {rng.randint(2, 40)} | g |", f"| Protein | {rng.randint(2, 45)} | g |",
                  f"| Salt | {rng.randint(1, 30) / 10} | g |"]
    lines += ["", "## Method", ""]
    for n, step in enumerate(rng.sample(STEPS, rng.randint(4, 7)), 1):
        lines.append(f"{n}. " + step.format(t=rng.choice((160, 180, 200, 220)),
                                            g=rng.randint(3, 7), m=rng.randint(5, 45),
                                            c=rng.choice((20, 23, 25))))
    return "\n".join(lines) + "\n"


def sources(folder: Path = FOLDER) -> list[Source]:
    """The recipes as Markdown, written on first use; every 4th to dev."""
    return written_sources("recipes", folder, "recipe", ".md", recipe,
                           range(FIRST_SEED, FIRST_SEED + TRAIN + DEV))
