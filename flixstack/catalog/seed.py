"""A realistic synthetic catalog, reproducible from a seed.

Names are built from small bilingual vocabularies so that every title has real-looking
localized names in English, French and Spanish (and some in German or Brazilian
Portuguese), with the accents and ligatures search must fold ("Le Cœur Sauvage", "El
Río Silencioso"). Popularity follows a Zipf law, as viewing does. Licence windows cover
14 territories; per title some have ended, some are open and some have not started, so a
seeded catalog looks different from every country and changes over time.

Generated titles are published and carry no media; callers attach assets (the local
``seed-catalog`` attaches real demo videos; the search benchmark needs none).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flixstack.catalog.models import (
    GENRES,
    CastMember,
    Episode,
    Licence,
    LocalizedText,
    MaturityRating,
    Season,
    TitleDocument,
    TitleKind,
    TitleState,
)

TERRITORIES: tuple[str, ...] = (
    "US", "GB", "CA", "FR", "DE", "ES", "MX", "BR", "JP", "IN", "AU", "NL", "SE", "KR",
)  # fmt: skip
LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "de", "pt-BR")


@dataclass(frozen=True)
class Noun:
    en: str
    fr: str
    fr_feminine: bool
    es: str
    es_feminine: bool
    de: str
    pt: str
    pt_feminine: bool


@dataclass(frozen=True)
class Adjective:
    en: str
    fr: tuple[str, str]  # masculine, feminine
    es: tuple[str, str]
    de: str
    pt: tuple[str, str]


# fmt: off
NOUNS: tuple[Noun, ...] = tuple(Noun(*row) for row in (
    ("River", "Rivière", True, "Río", False, "Fluss", "Rio", False),
    ("Heart", "Cœur", False, "Corazón", False, "Herz", "Coração", False),
    ("Frontier", "Frontière", True, "Frontera", True, "Grenze", "Fronteira", True),
    ("Garden", "Jardin", False, "Jardín", False, "Garten", "Jardim", False),
    ("Kingdom", "Royaume", False, "Reino", False, "Königreich", "Reino", False),
    ("Shadow", "Ombre", True, "Sombra", True, "Schatten", "Sombra", True),
    ("Island", "Île", True, "Isla", True, "Insel", "Ilha", True),
    ("Storm", "Tempête", True, "Tormenta", True, "Sturm", "Tempestade", True),
    ("Mountain", "Montagne", True, "Montaña", True, "Berg", "Montanha", True),
    ("City", "Ville", True, "Ciudad", True, "Stadt", "Cidade", True),
    ("Forest", "Forêt", True, "Bosque", False, "Wald", "Floresta", True),
    ("Summer", "Été", False, "Verano", False, "Sommer", "Verão", False),
    ("Winter", "Hiver", False, "Invierno", False, "Winter", "Inverno", False),
    ("Night", "Nuit", True, "Noche", True, "Nacht", "Noite", True),
    ("Dream", "Rêve", False, "Sueño", False, "Traum", "Sonho", False),
    ("Voice", "Voix", True, "Voz", True, "Stimme", "Voz", True),
    ("Road", "Route", True, "Camino", False, "Straße", "Estrada", True),
    ("Ocean", "Océan", False, "Océano", False, "Ozean", "Oceano", False),
    ("Star", "Étoile", True, "Estrella", True, "Stern", "Estrela", True),
    ("Fire", "Feu", False, "Fuego", False, "Feuer", "Fogo", False),
    ("Secret", "Secret", False, "Secreto", False, "Geheimnis", "Segredo", False),
    ("Empire", "Empire", False, "Imperio", False, "Imperium", "Império", False),
    ("Harbor", "Port", False, "Puerto", False, "Hafen", "Porto", False),
    ("Desert", "Désert", False, "Desierto", False, "Wüste", "Deserto", False),
    ("Bridge", "Pont", False, "Puente", False, "Brücke", "Ponte", True),
    ("Tower", "Tour", True, "Torre", True, "Turm", "Torre", True),
    ("Moon", "Lune", True, "Luna", True, "Mond", "Lua", True),
    ("Valley", "Vallée", True, "Valle", False, "Tal", "Vale", False),
    ("Witness", "Témoin", False, "Testigo", False, "Zeuge", "Testemunha", True),
    ("Signal", "Signal", False, "Señal", True, "Signal", "Sinal", False),
    ("Orchard", "Verger", False, "Huerto", False, "Obstgarten", "Pomar", False),
    ("Lighthouse", "Phare", False, "Faro", False, "Leuchtturm", "Farol", False),
    ("Circus", "Cirque", False, "Circo", False, "Zirkus", "Circo", False),
    ("Machine", "Machine", True, "Máquina", True, "Maschine", "Máquina", True),
    ("Archive", "Archive", True, "Archivo", False, "Archiv", "Arquivo", False),
    ("Horizon", "Horizon", False, "Horizonte", False, "Horizont", "Horizonte", False),
    ("Letter", "Lettre", True, "Carta", True, "Brief", "Carta", True),
    ("Promise", "Promesse", True, "Promesa", True, "Versprechen", "Promessa", True),
    ("Wolf", "Loup", False, "Lobo", False, "Wolf", "Lobo", False),
    ("Glacier", "Glacier", False, "Glaciar", False, "Gletscher", "Geleira", True),
    ("Cathedral", "Cathédrale", True, "Catedral", True, "Kathedrale", "Catedral", True),
    ("Detective", "Détective", False, "Detective", False, "Detektiv", "Detetive", False),
    ("Orchestra", "Orchestre", False, "Orquesta", True, "Orchester", "Orquestra", True),
    ("Harvest", "Moisson", True, "Cosecha", True, "Ernte", "Colheita", True),
    ("Mirror", "Miroir", False, "Espejo", False, "Spiegel", "Espelho", False),
    ("Compass", "Boussole", True, "Brújula", True, "Kompass", "Bússola", True),
))
ADJECTIVES: tuple[Adjective, ...] = tuple(Adjective(*row) for row in (
    ("Silent", ("Silencieux", "Silencieuse"), ("Silencioso", "Silenciosa"), "Stille", ("Silencioso", "Silenciosa")),
    ("Wild", ("Sauvage", "Sauvage"), ("Salvaje", "Salvaje"), "Wilde", ("Selvagem", "Selvagem")),
    ("Last", ("Dernier", "Dernière"), ("Último", "Última"), "Letzte", ("Último", "Última")),
    ("Golden", ("Doré", "Dorée"), ("Dorado", "Dorada"), "Goldene", ("Dourado", "Dourada")),
    ("Hidden", ("Caché", "Cachée"), ("Oculto", "Oculta"), "Verborgene", ("Oculto", "Oculta")),
    ("Broken", ("Brisé", "Brisée"), ("Roto", "Rota"), "Zerbrochene", ("Partido", "Partida")),
    ("Distant", ("Lointain", "Lointaine"), ("Lejano", "Lejana"), "Ferne", ("Distante", "Distante")),
    ("Frozen", ("Gelé", "Gelée"), ("Helado", "Helada"), "Gefrorene", ("Congelado", "Congelada")),
    ("Burning", ("Brûlant", "Brûlante"), ("Ardiente", "Ardiente"), "Brennende", ("Ardente", "Ardente")),
    ("Forgotten", ("Oublié", "Oubliée"), ("Olvidado", "Olvidada"), "Vergessene", ("Esquecido", "Esquecida")),
    ("Crimson", ("Pourpre", "Pourpre"), ("Carmesí", "Carmesí"), "Purpurne", ("Carmesim", "Carmesim")),
    ("Endless", ("Infini", "Infinie"), ("Infinito", "Infinita"), "Endlose", ("Infinito", "Infinita")),
    ("Secret", ("Secret", "Secrète"), ("Secreto", "Secreta"), "Geheime", ("Secreto", "Secreta")),
    ("Northern", ("Boréal", "Boréale"), ("Boreal", "Boreal"), "Nördliche", ("Boreal", "Boreal")),
    ("Electric", ("Électrique", "Électrique"), ("Eléctrico", "Eléctrica"), "Elektrische", ("Elétrico", "Elétrica")),
    ("Quiet", ("Tranquille", "Tranquille"), ("Tranquilo", "Tranquila"), "Ruhige", ("Tranquilo", "Tranquila")),
    ("Restless", ("Agité", "Agitée"), ("Inquieto", "Inquieta"), "Rastlose", ("Inquieto", "Inquieta")),
    ("Sacred", ("Sacré", "Sacrée"), ("Sagrado", "Sagrada"), "Heilige", ("Sagrado", "Sagrada")),
    ("Lonely", ("Solitaire", "Solitaire"), ("Solitario", "Solitaria"), "Einsame", ("Solitário", "Solitária")),
    ("Invisible", ("Invisible", "Invisible"), ("Invisible", "Invisible"), "Unsichtbare", ("Invisível", "Invisível")),
    ("Ancient", ("Ancien", "Ancienne"), ("Antiguo", "Antigua"), "Alte", ("Antigo", "Antiga")),
    ("Bitter", ("Amer", "Amère"), ("Amargo", "Amarga"), "Bittere", ("Amargo", "Amarga")),
    ("Savage", ("Féroce", "Féroce"), ("Feroz", "Feroz"), "Grausame", ("Feroz", "Feroz")),
    ("Velvet", ("Velouté", "Veloutée"), ("Aterciopelado", "Aterciopelada"), "Samtene", ("Aveludado", "Aveludada")),
    ("Midnight", ("Nocturne", "Nocturne"), ("Nocturno", "Nocturna"), "Mitternächtliche", ("Noturno", "Noturna")),
    ("Scarlet", ("Écarlate", "Écarlate"), ("Escarlata", "Escarlata"), "Scharlachrote", ("Escarlate", "Escarlate")),
    ("Fragile", ("Fragile", "Fragile"), ("Frágil", "Frágil"), "Zerbrechliche", ("Frágil", "Frágil")),
    ("Infinite", ("Éternel", "Éternelle"), ("Eterno", "Eterna"), "Ewige", ("Eterno", "Eterna")),
    ("Hollow", ("Creux", "Creuse"), ("Hueco", "Hueca"), "Hohle", ("Oco", "Oca")),
    ("Radiant", ("Radieux", "Radieuse"), ("Radiante", "Radiante"), "Strahlende", ("Radiante", "Radiante")),
))
PLACES: tuple[str, ...] = (
    "Valparaíso", "Kraków", "Reykjavík", "Montréal", "Zürich", "Malmö", "Córdoba", "Gdańsk",
    "Düsseldorf", "Île-de-France", "São Paulo", "Bogotá", "Tromsø", "Ålesund", "Nîmes",
    "Kyoto", "Lagos", "Havana", "Marrakesh", "Istanbul", "Lisbon", "Dublin", "Seoul",
    "Oaxaca", "Quito", "Tbilisi", "Nairobi", "Hanoi", "Porto", "Sevilla",
)
FIRST_NAMES: tuple[str, ...] = (
    "José", "Zoë", "François", "Søren", "Chloé", "Ana", "Björn", "Inés", "Mateus", "Hélène",
    "Ryo", "Priya", "Olúwaseun", "Łukasz", "Mía", "Noémie", "Thiago", "Agnès", "Jürgen",
    "Camila", "Émile", "Yuki", "Aoife", "Rafael", "Leïla", "Mikael", "Sofía", "Darius",
    "Amélie", "Kwame", "Ingrid", "Joaquín", "Margaux", "Tomás", "Elif", "Nikolai", "Ravi",
    "Greta", "Lucía", "Oskar",
)
LAST_NAMES: tuple[str, ...] = (
    "Álvarez", "Dubois", "Nørgaard", "Müller", "Okafor", "Tanaka", "Fernández", "Lefèvre",
    "Kowalczyk", "Sørensen", "Haddad", "Moreau", "Gómez", "Nakamura", "Brennan", "Petrović",
    "Castillo", "Lindqvist", "Oyelaran", "Beaumont", "Ibáñez", "Schäfer", "Mendoza", "Kaur",
    "Rossi", "Ó Briain", "Villeneuve", "Yılmaz", "Hartmann", "Quintero", "Almeida", "Duarte",  # noqa: RUF001
    "Fischer", "Delacroix", "Sato", "Novak", "Ferreira", "Leclerc", "Márquez", "Andersen",
)
# fmt: on
RATINGS: tuple[MaturityRating, ...] = ("G", "PG", "PG-13", "R", "TV-Y7", "TV-PG", "TV-14", "TV-MA")
EPISODE_WORD = {
    "en": "Episode",
    "fr": "Épisode",
    "es": "Episodio",
    "de": "Folge",
    "pt-BR": "Episódio",
}
SEASON_WORD = {
    "en": "Season",
    "fr": "Saison",
    "es": "Temporada",
    "de": "Staffel",
    "pt-BR": "Temporada",
}


def _fr_article(noun: Noun) -> str:
    if noun.fr[0] in "AEIOUHÉÈÎÔ":
        return "L'"
    return "La " if noun.fr_feminine else "Le "


def _names(
    adjective: Adjective, noun: Noun, place: str | None, second: Noun | None
) -> dict[str, str]:
    """One title's name in every language, e.g. The Silent River / La Rivière Silencieuse."""
    fr_adj = adjective.fr[noun.fr_feminine]
    es_adj = adjective.es[noun.es_feminine]
    pt_adj = adjective.pt[noun.pt_feminine]
    names = {
        "en": f"The {adjective.en} {noun.en}",
        "fr": f"{_fr_article(noun)}{noun.fr} {fr_adj}",
        "es": f"{'La' if noun.es_feminine else 'El'} {noun.es} {es_adj}",
        "de": f"{'Die' if adjective.de.endswith('e') else 'Das'} {adjective.de} {noun.de}",
        "pt-BR": f"{'A' if noun.pt_feminine else 'O'} {noun.pt} {pt_adj}",
    }
    if second is not None:
        names = {
            "en": f"{names['en']} and the {second.en}",
            "fr": f"{names['fr']} et {_fr_article(second).lower()}{second.fr}",
            "es": f"{names['es']} y {'la' if second.es_feminine else 'el'} {second.es}",
            "de": f"{names['de']} und {second.de}",
            "pt-BR": f"{names['pt-BR']} e {'a' if second.pt_feminine else 'o'} {second.pt}",
        }
    if place is not None:
        names = {lang: f"{name}: {place}" for lang, name in names.items()}
    return names


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _licences(rng: random.Random, now: datetime) -> list[Licence]:
    """3-9 territories; each window is current (60 %), ended (20 %) or upcoming (20 %),
    and some territories get a second window after a gap."""
    licences = []
    for territory in rng.sample(TERRITORIES, rng.randint(3, 9)):
        roll = rng.random()
        if roll < 0.6:
            start = now - timedelta(days=rng.randint(1, 900))
            end = now + timedelta(days=rng.randint(1, 900))
        elif roll < 0.8:
            end = now - timedelta(days=rng.randint(1, 300))
            start = end - timedelta(days=rng.randint(30, 700))
        else:
            start = now + timedelta(days=rng.randint(1, 200))
            end = start + timedelta(days=rng.randint(30, 700))
        licences.append(Licence(territory=territory, start=start, end=end))
        if rng.random() < 0.1:
            later = end + timedelta(days=rng.randint(30, 200))
            licences.append(
                Licence(territory=territory, start=later, end=later + timedelta(days=365))
            )
    return licences


def _series(
    rng: random.Random, title_id: str, languages: list[str]
) -> tuple[list[Season], dict[str, Episode]]:
    seasons, episodes = [], {}
    for number in range(1, rng.randint(1, 4) + 1):
        ids = []
        for episode_number in range(1, rng.randint(3, 8) + 1):
            episode_id = f"{title_id}-s{number}e{episode_number}"
            episodes[episode_id] = Episode(
                id=episode_id,
                season=number,
                number=episode_number,
                localized={
                    lang: LocalizedText(name=f"{EPISODE_WORD[lang]} {episode_number}")
                    for lang in languages
                },
                runtime_min=rng.randint(22, 60),
            )
            ids.append(episode_id)
        seasons.append(
            Season(
                number=number,
                localized={
                    lang: LocalizedText(name=f"{SEASON_WORD[lang]} {number}") for lang in languages
                },
                episodes=ids,
            )
        )
    return seasons, episodes


def generate_titles(
    count: int, *, seed: int, now: datetime, actor: str = "seed"
) -> list[TitleDocument]:
    """``count`` published titles with unique names, the same for the same seed and now."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    now = now.astimezone(UTC)
    stamp = _iso(now)
    seen: set[str] = set()
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    titles = []
    for index in range(count):
        while True:  # unique English names; the name space is far larger than any catalog
            adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
            second = rng.choice(NOUNS) if rng.random() < 0.35 else None
            place = rng.choice(PLACES) if rng.random() < 0.55 else None
            if second is noun or adjective.en == noun.en:
                continue
            names = _names(adjective, noun, place, second)
            if names["en"] not in seen:
                seen.add(names["en"])
                break
        default = rng.choices(["en", "fr", "es"], weights=[6, 2, 2])[0]
        others = [lang for lang in LANGUAGES if lang != default]
        languages = [default, *rng.sample(others, rng.randint(2, len(others)))]
        kind = TitleKind.SERIES if rng.random() < 0.3 else TitleKind.MOVIE
        title_id = f"seed{seed}-{index:06d}"
        seasons, episodes = (
            _series(rng, title_id, languages) if kind is TitleKind.SERIES else ([], {})
        )
        synopsis_person = _person(rng)
        titles.append(
            TitleDocument(
                id=title_id,
                kind=kind,
                state=TitleState.PUBLISHED,
                default_language=default,
                localized={
                    lang: LocalizedText(
                        name=names[lang],
                        synopsis=_synopsis(lang, names[lang], synopsis_person),
                    )
                    for lang in languages
                },
                genres=rng.sample(GENRES, rng.randint(1, 3)),
                cast=[
                    CastMember(name=_person(rng), role="director"),
                    *(
                        CastMember(name=_person(rng), role="actor")
                        for _ in range(rng.randint(2, 6))
                    ),
                ],
                maturity_rating=rng.choice(RATINGS),
                release_year=rng.randint(1950, now.year),
                runtime_min=None if kind is TitleKind.SERIES else rng.randint(78, 175),
                licences=_licences(rng, now),
                popularity=round(1000.0 / ranks[index], 6),  # Zipf, exponent 1
                seasons=seasons,
                episodes=episodes,
                created_at=stamp,
                created_by=actor,
                updated_at=stamp,
                updated_by=actor,
                published_at=_iso(now - timedelta(minutes=index)),
            )
        )
    return titles


def _synopsis(language: str, name: str, person: str) -> str:
    return {
        "en": f"{person} follows the trail of {name} and finds more than they bargained for.",
        "fr": f"{person} suit la piste de « {name} » et découvre bien plus que prévu.",
        "es": f"{person} sigue el rastro de «{name}» y descubre mucho más de lo esperado.",
        "de": f"{person} folgt der Spur von „{name}“ und findet mehr als erwartet.",
        "pt-BR": f"{person} segue a pista de “{name}” e descobre muito mais do que esperava.",
    }[language]
