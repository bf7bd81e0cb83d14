"""Business letters: prose between two companies, with names, dates and addresses, that is no
agreement. The router learns to refuse them (an offer letter read as a contract would be
booked as signed), from letters written here from a seed (Faker's companies and people)."""

from __future__ import annotations

import random
from pathlib import Path

from faker import Faker

from pipeline.doctypes.base import Source, written_sources

FOLDER = Path.home() / ".cache" / "docket" / "generated" / "letters-v1"
TRAIN, DEV, FIRST_SEED = 60, 20, 500_000

SUBJECTS = ("Your enquiry of {date}", "Order confirmation", "Change of our bank details",
            "Invitation to our annual customer day", "Delivery delay", "Price adjustment",
            "Reminder: outstanding documents", "Quality complaint, batch {ref}",
            "Thank you for your visit", "Office relocation")
SENTENCES = (
    "Thank you for your letter of {date} regarding {topic}.",
    "We are pleased to confirm that your request has been passed to our {dept} team.",
    "Unfortunately, the delivery planned for {date} will be delayed by about {n} days.",
    "Please find enclosed the brochure you asked for, together with our current price list.",
    "Our office will move to {address} from {date}; our telephone numbers stay the same.",
    "Should you have any questions, please do not hesitate to contact {person} on {phone}.",
    "We would be delighted to welcome you at our premises on {date}.",
    "We apologise for any inconvenience this may cause and thank you for your patience.",
    "As discussed on the phone, we will send a technician to inspect the {topic}.",
    "Kindly return the signed delivery note at your earliest convenience.",
    "We look forward to continuing our good cooperation.",
)


def letter(seed: int) -> str:
    rng = random.Random(seed)
    fake = Faker(rng.choice(("en_US", "en_GB", "en_AU", "en_IE")))
    fake.seed_instance(seed)
    date = fake.date_between("-5y", "today").strftime(rng.choice(("%d %B %Y", "%B %d, %Y")))
    sender, person = fake.company(), fake.name()
    fill = {"date": fake.date_between("-5y", "today").strftime("%d %B %Y"),
            "topic": fake.bs(), "dept": rng.choice(("sales", "support", "accounts")),
            "n": rng.randint(2, 21), "address": fake.address().replace("\n", ", "),
            "person": fake.name(), "phone": fake.phone_number(), "ref": fake.bothify("??-####")}
    body = [rng.choice(SENTENCES).format(**fill) for _ in range(rng.randint(3, 7))]
    lines = [sender, *fake.address().split("\n"), f"Tel. {fake.phone_number()}", "",
             person if rng.random() < 0.5 else f"{fake.company()}",
             *fake.address().split("\n"), "", date, "",
             f"Re: {rng.choice(SUBJECTS).format(**fill)}", "",
             f"Dear {rng.choice(('Mr', 'Ms', 'Dr'))} {fake.last_name()},", "",
             " ".join(body[: len(body) // 2]), "", " ".join(body[len(body) // 2:]), "",
             rng.choice(("Yours sincerely,", "Kind regards,", "Best regards,")), "", person,
             fake.job(), sender]
    return "\n".join(lines) + "\n"


def sources(folder: Path = FOLDER) -> list[Source]:
    """The letters as text files, written on first use; every 4th to dev."""
    return written_sources("letters", folder, "letter", ".txt", letter,
                           range(FIRST_SEED, FIRST_SEED + TRAIN + DEV))
