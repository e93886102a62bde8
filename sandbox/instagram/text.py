"""Words for the sandbox's invented Instagram accounts, captions and comments (made up here)."""

import random

WORDS = ("sunny", "urban", "salty", "wild", "cosy", "lunar", "mellow", "bold", "pixel", "maple",
         "coral", "velvet", "paper", "copper", "golden", "quiet", "brave", "tiny", "north", "lucky")
NOUNS = ("bakery", "studio", "garden", "atelier", "kitchen", "threads", "coffee", "travels",
         "fitness", "records", "optics", "surf", "bikes", "plants", "ceramics", "books", "skin",
         "pets", "frames", "tacos")
FIRST_NAMES = ("alex", "maria", "kenji", "lea", "omar", "sofia", "jin", "noah", "ines", "liam",
               "ana", "yuki", "ben", "chloe", "ravi", "emma", "lucas", "mia", "tom", "zoe")
LAST_NAMES = ("silva", "tanaka", "miller", "garcia", "nguyen", "khan", "rossi", "novak",
              "dubois", "kim", "okafor", "larsen")
CATEGORIES = ("Bakery", "Clothing (Brand)", "Coffee Shop", "Photographer", "Artist",
              "Health/Beauty", "Travel Company", "Musician/Band", "Product/Service",
              "Digital Creator", "Restaurant", "Sports & Recreation")
HASHTAGS = ("instagood", "photooftheday", "love", "travel", "food", "fashion", "nature",
            "coffee", "fitness", "art", "summer", "sunset", "handmade", "style", "reels",
            "explore", "smallbusiness", "beach", "foodie", "design", "music", "vintage",
            "plants", "ceramics", "surf", "bakery", "streetphotography", "weekend", "newdrop",
            "behindthescenes")
OPENERS = ("New in:", "Weekend mood.", "Behind the scenes:", "Fresh batch today!",
           "Throwback to", "Say hello to", "Finally here:", "Our favourite", "Golden hour at",
           "Small things:")
SUBJECTS = ("the studio", "our new collection", "this morning's bake", "the coast",
            "a rainy Tuesday", "the workshop", "a little secret", "the team", "summer nights",
            "the first drop of the season")
COMMENTS = ("Love this! 😍", "So good", "Where is this?", "🔥🔥🔥", "Need this in my life",
            "Beautiful shot", "Can't wait!", "Wow", "Obsessed", "Is it available in blue?",
            "👏👏", "This made my day", "Take my money", "Stunning 😍", "Great work!")
CITIES = (("London, England", "GB"), ("New York, New York", "US"), ("Los Angeles, California",
          "US"), ("São Paulo, São Paulo (state)", "BR"), ("Paris, Île-de-France", "FR"),
          ("Berlin, Berlin", "DE"), ("Madrid, Comunidad de Madrid", "ES"),
          ("Mumbai, Maharashtra", "IN"), ("Tokyo, Tokyo", "JP"), ("Toronto, Ontario", "CA"),
          ("Sydney, New South Wales", "AU"), ("Mexico City, Distrito Federal", "MX"))
AGES = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


def handle_words(rand: random.Random, business: bool) -> str:
    """A handle's stem: "sunny.bakery" for a business, "maria_silva" for a person."""
    if business:
        return rand.choice(WORDS) + rand.choice((".", "_", "")) + rand.choice(NOUNS)
    return rand.choice(FIRST_NAMES) + rand.choice((".", "_")) + rand.choice(LAST_NAMES)


def full_name(stem: str, business: bool) -> str:
    parts = stem.replace("_", ".").split(".")
    return " ".join(p.capitalize() for p in parts if p) if business or len(parts) > 1 else stem


def caption(rand: random.Random, hashtags: tuple[str, ...]) -> str:
    text = f"{rand.choice(OPENERS)} {rand.choice(SUBJECTS)}"
    if rand.random() < 0.3:
        text += " ✨"
    return text + ("\n\n" + " ".join("#" + h for h in hashtags) if hashtags else "")
