"""Words for the sandbox's invented channels, videos and comments (all made up here)."""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    category_id: str
    genre: str
    brand: tuple[str, ...]
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic("cooking", "26", "Howto & Style", ("Kitchen", "Table", "Pantry", "Skillet"),
          ("sourdough", "ramen", "pasta", "curry", "dumplings", "brunch", "tacos", "crème brûlée"),
          ("cook", "bake", "fix", "season", "plate")),
    Topic("tech", "28", "Science & Technology", ("Labs", "Bytes", "Circuit", "Stack"),
          ("laptop", "keyboard", "home server", "router", "phone", "GPU", "smart watch"),
          ("build", "review", "benchmark", "repair", "upgrade")),
    Topic("travel", "19", "Travel & Events", ("Wander", "Roads", "Atlas", "Passport"),
          ("Lisbon", "Kyoto", "Patagonia", "night train", "hostel", "Iceland", "street food"),
          ("explore", "visit", "hike", "pack for", "survive")),
    Topic("gaming", "20", "Gaming", ("Plays", "Arcade", "Respawn", "Quest"),
          ("speedrun", "boss fight", "open world", "roguelike", "co-op", "retro console"),
          ("beat", "play", "rank", "mod", "speedrun")),
    Topic("music", "10", "Music", ("Sound", "Records", "Studio", "Tapes"),
          ("bass line", "synth", "drum loop", "live session", "cover", "album"),
          ("play", "mix", "record", "remix", "learn")),
    Topic("science", "27", "Education", ("Explained", "Minute", "Lab", "Academy"),
          ("black holes", "tides", "volcanoes", "bacteria", "prime numbers", "batteries"),
          ("explain", "measure", "simulate", "test", "visualise")),
    Topic("fitness", "17", "Sports", ("Athletics", "Strength", "Motion", "Run Club"),
          ("marathon", "deadlift", "mobility", "HIIT", "stretching", "trail run"),
          ("train", "improve", "fix", "start", "finish")),
    Topic("surfing", "17", "Sports", ("Swell", "Reef", "Lineup", "Tides"),
          ("pipeline", "longboard", "barrel", "wipeout", "point break", "board shaping"),
          ("surf", "ride", "shape", "paddle", "catch")),
    Topic("diy", "26", "Howto & Style", ("Workshop", "Garage", "Makes", "Bench"),
          ("workbench", "shed", "lamp", "bookshelf", "epoxy table", "tool wall"),
          ("build", "restore", "weld", "sand", "finish")),
    Topic("comedy", "23", "Comedy", ("Laughs", "Sketches", "Bits", "Show"),
          ("office", "roommate", "group chat", "job interview", "family dinner"),
          ("survive", "ruin", "explain", "rank", "react to")),
)

PREFIXES = ("Nova", "Pixel", "Blue", "Maple", "Copper", "Wild", "Urban", "Little", "North",
            "Golden", "Quiet", "Bright", "Salt", "Orbit", "Velvet", "Paper", "Iron", "Lucky",
            "Coral", "Hidden", "Rapid", "Cosmic", "Brave", "Tiny")
ADJECTIVES = ("ultimate", "honest", "cheap", "weird", "perfect", "underrated", "beginner's",
              "impossible", "tiny", "huge", "quick", "slow", "real")
COUNTRIES = ("US", "GB", "DE", "FR", "JP", "BR", "IN", "CA", "AU", "ES", "KR", "MX", "NL")
LANGUAGES = {"US": "en", "GB": "en", "CA": "en", "AU": "en", "DE": "de", "FR": "fr",
             "JP": "ja", "BR": "pt", "IN": "hi", "ES": "es", "KR": "ko", "MX": "es", "NL": "nl"}
FIRST_NAMES = ("alex", "maria", "kenji", "lea", "omar", "sofia", "jin", "noah", "ines", "liam",
               "ana", "yuki", "ben", "chloe", "ravi", "emma", "lucas", "mia", "tom", "zoe")
COMMENT_OPENERS = ("This is gold", "Wow", "Honestly", "Not gonna lie", "Finally", "Lol",
                   "Great video", "Who's watching in 2025", "I can't believe", "Thanks")
COMMENT_BODIES = ("the part at {ts} made my day", "you explained {noun} better than my teacher",
                  "I tried this & it worked", "more {noun} videos please",
                  "the editing keeps getting better", "my {noun} will never be the same",
                  "been waiting for this one", "that's exactly what I needed today")
EMOJI = ("", "", "", " 🔥", " 😂", " ❤️", " 👏")


def channel_title(rng: random.Random, topic: Topic) -> str:
    return f"{rng.choice(PREFIXES)} {rng.choice(topic.brand)}"


def channel_description(rng: random.Random, topic: Topic, title: str) -> str:
    nouns = rng.sample(topic.nouns, 3)
    return (f"{title} is about {topic.name}: {nouns[0]}, {nouns[1]} and {nouns[2]}.\n"
            f"New videos every week. Business: hello@{title.lower().replace(' ', '')}.example")


def keywords(topic: Topic) -> str:
    """brandingSettings.channel.keywords: space-separated, multi-word ones quoted."""
    return " ".join(f'"{w}"' if " " in w else w for w in (topic.name, *topic.nouns[:4]))


def video_title(rng: random.Random, topic: Topic, number: int) -> str:
    noun, other = rng.sample(topic.nouns, 2)
    adjective = rng.choice(ADJECTIVES)
    verb = rng.choice(topic.verbs)
    templates = (
        f"How to {verb} {noun} ({2010 + number % 15} guide)",
        f"I tried {noun} for {rng.randint(3, 100)} days",
        f"The {adjective} {noun}: {rng.randint(3, 12)} things nobody tells you",
        f"{noun.capitalize()} vs {other} – which is better?",
        f"Let's {verb} the {adjective} {noun} #{number}",
        f"Ep. {number}: {adjective} {noun}",
        f"{noun.capitalize()} review{rng.choice(EMOJI)}",
        f"Why {noun} is {adjective} & what to do about it",
    )
    return rng.choice(templates)


def video_description(rng: random.Random, topic: Topic, title: str, handle: str) -> str:
    noun = rng.choice(topic.nouns)
    lines = [f"{title}.", f"Today we {rng.choice(topic.verbs)} {noun} — step by step."]
    if rng.random() < 0.6:
        lines.append(f"\nSubscribe: https://www.youtube.com/{handle}")
    if rng.random() < 0.5:
        lines.append(f"#{topic.name} #{noun.replace(' ', '')}")
    return "\n".join(lines)


def video_tags(rng: random.Random, topic: Topic) -> list[str]:
    pool = [topic.name, *topic.nouns, *topic.verbs]
    return rng.sample(pool, rng.randint(2, min(12, len(pool))))


def comment_author(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "@user-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                  for _ in range(9))
    return f"@{rng.choice(FIRST_NAMES)}{rng.choice(FIRST_NAMES).capitalize()}{rng.randint(1, 9999)}"


def comment_text(rng: random.Random, topic: Topic, duration_s: int) -> str:
    stamp = rng.randint(0, max(1, duration_s - 1))
    body = rng.choice(COMMENT_BODIES).format(ts=f"{stamp // 60}:{stamp % 60:02d}",
                                             noun=rng.choice(topic.nouns))
    return f"{rng.choice(COMMENT_OPENERS)}, {body}{rng.choice(EMOJI)}"
