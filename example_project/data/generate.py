"""Deterministic generator for the example shop's raw data.

Writes the raw exports under ``data/raw/`` next to this script:

    customers.csv, products.parquet, orders.csv, order_items.csv,
    payments.ndjson, web_events/events_YYYY-MM.ndjson

Only Python's stdlib and duckdb are used, and every random draw comes
from one seeded ``random.Random``, so running the script twice gives
byte-identical CSV / NDJSON files and a Parquet file with identical content.

Usage (from the repository root):

    python example_project/data/generate.py
"""

from __future__ import annotations

import csv
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

SEED = 20240101
START = datetime(2024, 1, 1)
END = datetime(2024, 6, 30, 23, 59, 59)

N_CUSTOMERS = 500
N_ORDERS = 3000
N_SESSIONS = 1500

RAW = Path(__file__).resolve().parent / "raw"

# fmt: off
FIRST_NAMES = [
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Ines",
    "Jonas", "Katrin", "Lukas", "Marie", "Noah", "Olivia", "Paul", "Quinn",
    "Rosa", "Simon", "Tara", "Uwe", "Vera", "Willem", "Xenia", "Yusuf", "Zoe",
    "Léa", "Jörg", "Zofia", "Mateo",
]
LAST_NAMES = [
    "Schmidt", "Müller", "Dubois", "Martin", "de Vries", "Jansen", "García",
    "López", "Rossi", "Bianchi", "Kowalski", "Nowak", "Peeters", "Huber",
    "Bauer", "Moreau", "Bakker", "Fernández", "Romano", "Wagner", "O'Brien",
    "Lefebvre", "Visser", "Conti",
]
COUNTRIES = ["DE", "DE", "DE", "FR", "FR", "NL", "NL", "ES", "IT", "AT", "BE", "PL"]
# fmt: on

CATEGORIES = {
    # category: (product nouns, price range in cents)
    "coffee": (
        ["Espresso Beans", "Filter Roast", "Decaf Blend", "Single Origin", "Cold Brew Pack"],
        (899, 2499),
    ),
    "tea": (["Green Tea", "Earl Grey", "Chai Mix", "Rooibos", "Matcha"], (499, 2999)),
    "equipment": (["Grinder", "Kettle", "French Press", "Pour-Over Set", "Scale"], (2499, 14999)),
    "accessories": (["Mug", "Filter Papers", "Tamper", "Travel Cup", "Canister"], (299, 3999)),
    "snacks": (["Biscotti", "Dark Chocolate", "Almond Cookies"], (199, 899)),
}
ADJECTIVES = ["Classic", "Premium", "Organic", "House", "Nordic", "Velvet"]

ORDER_STATUSES = ["placed", "shipped", "completed", "returned", "cancelled"]
PAYMENT_METHODS = ["card", "paypal", "bank_transfer", "gift_card"]
CARD_BRANDS = ["visa", "mastercard", "amex"]


def ts(value: datetime, sep: str = " ") -> str:
    return value.strftime(f"%Y-%m-%d{sep}%H:%M:%S")


def rand_between(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    span = int((hi - lo).total_seconds())
    return lo + timedelta(seconds=rng.randint(0, max(span, 0)))


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_ndjson(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        for record in records:
            f.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
            f.write("\n")


def gen_customers(rng: random.Random) -> list[dict]:
    customers = []
    for customer_id in range(1, N_CUSTOMERS + 1):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        if customer_id == 42:
            last = "Doe, Jr."  # CSV edge case: a comma inside a quoted field
        local = f"{first}.{last}".lower()
        local = "".join(ch for ch in local if ch.isalnum() or ch == ".")
        email = f"{local}{customer_id}@example.com"
        country = rng.choice(COUNTRIES)
        # A little mess for staging to clean up.
        if rng.random() < 0.05:
            email = f"  {email.upper()} "
        if rng.random() < 0.03:
            country = country.lower()
        signed_up_at = rand_between(rng, START, datetime(2024, 6, 20))
        customers.append(
            {
                "customer_id": customer_id,
                "first_name": first,
                "last_name": last,
                "email": email,
                "country": country,
                "signed_up_at": signed_up_at,
            }
        )
    return customers


def gen_products(rng: random.Random) -> list[dict]:
    products = []
    product_id = 100
    for category, (nouns, (lo, hi)) in CATEGORIES.items():
        for noun in nouns:
            for adjective in rng.sample(ADJECTIVES, 3 if category != "snacks" else 2):
                product_id += 1
                price = rng.randint(lo, hi)
                price = price - price % 100 + 99  # x.99 pricing
                products.append(
                    {
                        "product_id": product_id,
                        "name": f"{adjective} {noun}",
                        "category": category,
                        "price_cents": price,
                    }
                )
    return products


def gen_orders(rng: random.Random, customers: list[dict]):
    # Not every customer orders; a few order a lot.
    buyers = [c for c in customers if rng.random() < 0.85]
    weights = [min(rng.paretovariate(1.5), 12.0) for _ in buyers]
    drafts = []
    for _ in range(N_ORDERS):
        customer = rng.choices(buyers, weights=weights)[0]
        ordered_at = rand_between(rng, customer["signed_up_at"] + timedelta(minutes=5), END)
        drafts.append((ordered_at, customer["customer_id"]))
    drafts.sort()

    orders = []
    for i, (ordered_at, customer_id) in enumerate(drafts):
        age_days = (END - ordered_at).days
        if age_days < 3:
            status = rng.choices(["placed", "shipped", "cancelled"], [60, 35, 5])[0]
        elif age_days < 10:
            status = rng.choices(ORDER_STATUSES, [10, 45, 35, 3, 7])[0]
        else:
            status = rng.choices(ORDER_STATUSES, [1, 3, 82, 8, 6])[0]
        orders.append(
            {
                "order_id": 10001 + i,
                "customer_id": customer_id,
                "ordered_at": ordered_at,
                "status": status,
            }
        )
    return orders


def gen_order_items(rng: random.Random, orders: list[dict], products: list[dict]):
    items = []
    totals = {}
    for order in orders:
        n_lines = rng.choices([1, 2, 3, 4], [45, 30, 15, 10])[0]
        total = 0
        for line_no, product in enumerate(rng.sample(products, n_lines), start=1):
            quantity = rng.choices([1, 2, 3], [70, 22, 8])[0]
            items.append([order["order_id"], line_no, product["product_id"], quantity])
            total += quantity * product["price_cents"]
        totals[order["order_id"]] = total
    return items, totals


def gen_payments(rng: random.Random, orders: list[dict], totals: dict[int, int]):
    payments = []

    def pay(order, method, amount, paid_at):
        record = {
            "payment_id": len(payments) + 1,
            "order_id": order["order_id"],
            "method": method,
            "amount_cents": amount,
            "paid_at": ts(paid_at, "T"),
        }
        if method == "card":
            record["card"] = {
                "brand": rng.choices(CARD_BRANDS, [55, 35, 10])[0],
                "last4": f"{rng.randint(0, 9999):04d}",
            }
        payments.append(record)

    for order in orders:
        if order["status"] == "cancelled":
            continue
        if order["status"] == "placed" and rng.random() < 0.4:
            continue  # not paid yet
        total = totals[order["order_id"]]
        paid_at = order["ordered_at"] + timedelta(seconds=rng.randint(5, 900))
        method = rng.choices(PAYMENT_METHODS, [60, 25, 10, 5])[0]
        if method == "card" and total > 3000 and rng.random() < 0.08:
            # Split payment: a gift card first, the rest by card.
            gift = rng.randint(5, 20) * 100
            pay(order, "gift_card", gift, paid_at)
            pay(order, "card", total - gift, paid_at + timedelta(seconds=rng.randint(5, 60)))
        else:
            pay(order, method, total, paid_at)

    # The export re-sends a few payments: exact duplicate lines.
    lines = list(payments)
    for dup in rng.sample(payments, 12):
        lines.insert(lines.index(dup) + 1, dup)
    return lines


def gen_web_events(rng: random.Random, customers: list[dict], products: list[dict]):
    session_ids = set()
    events = []
    for _ in range(N_SESSIONS):
        while True:
            session_id = f"s{rng.getrandbits(32):08x}"
            if session_id not in session_ids:
                session_ids.add(session_id)
                break
        started_at = rand_between(rng, START, END - timedelta(hours=1))
        customer_id = None
        if rng.random() < 0.55:
            known = [c for c in customers if c["signed_up_at"] <= started_at]
            if known:
                customer_id = rng.choice(known)["customer_id"]
        landing = "/"
        if rng.random() < 0.25:
            landing += "?utm_source=" + rng.choice(["newsletter", "google", "instagram"])

        at = started_at
        session = [("page_view", landing)]
        for _ in range(rng.choices([0, 1, 2, 3, 4], [25, 30, 20, 15, 10])[0]):
            if rng.random() < 0.3:
                url = "/category/" + rng.choice(list(CATEGORIES))
            else:
                url = f"/products/{rng.choice(products)['product_id']}"
            session.append(("page_view", url))
        product_pages = [url for kind, url in session if url.startswith("/products/")]
        if product_pages and rng.random() < 0.45:
            session.append(("add_to_cart", rng.choice(product_pages)))
            if rng.random() < 0.5:
                session.append(("page_view", "/cart"))
            if rng.random() < 0.55:
                session.append(("checkout", "/checkout"))

        for event_type, url in session:
            events.append(
                {
                    "session_id": session_id,
                    "customer_id": customer_id,
                    "event_type": event_type,
                    "url": url,
                    "occurred_at": at,
                }
            )
            at += timedelta(seconds=rng.randint(4, 240))

    events.sort(key=lambda e: (e["occurred_at"], e["session_id"]))
    by_month: dict[str, list[dict]] = {}
    for event_id, event in enumerate(events, start=1):
        record = {
            "event_id": event_id,
            "session_id": event["session_id"],
            "customer_id": event["customer_id"],
            "event_type": event["event_type"],
            "url": event["url"],
            "occurred_at": ts(event["occurred_at"], "T"),
        }
        by_month.setdefault(event["occurred_at"].strftime("%Y-%m"), []).append(record)
    return by_month


def write_products_parquet(path: Path, products: list[dict]) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("set threads = 1")
    con.execute(
        "create table products (product_id bigint, name varchar, category varchar, price_cents integer)"
    )
    con.executemany(
        "insert into products values (?, ?, ?, ?)",
        [[p["product_id"], p["name"], p["category"], p["price_cents"]] for p in products],
    )
    tmp = path.with_suffix(".parquet.tmp")
    con.execute(
        f"copy (select * from products order by product_id) to '{tmp.as_posix()}' "
        "(format parquet, compression zstd, row_group_size 100000)"
    )
    con.close()
    tmp.replace(path)


def main() -> None:
    rng = random.Random(SEED)
    RAW.mkdir(parents=True, exist_ok=True)
    (RAW / "web_events").mkdir(exist_ok=True)

    customers = gen_customers(rng)
    products = gen_products(rng)
    orders = gen_orders(rng, customers)
    items, totals = gen_order_items(rng, orders, products)
    payments = gen_payments(rng, orders, totals)
    web_events = gen_web_events(rng, customers, products)

    write_csv(
        RAW / "customers.csv",
        ["customer_id", "first_name", "last_name", "email", "country", "signed_up_at"],
        [
            [
                c["customer_id"],
                c["first_name"],
                c["last_name"],
                c["email"],
                c["country"],
                ts(c["signed_up_at"]),
            ]
            for c in customers
        ],
    )
    write_products_parquet(RAW / "products.parquet", products)
    write_csv(
        RAW / "orders.csv",
        ["order_id", "customer_id", "ordered_at", "status"],
        [[o["order_id"], o["customer_id"], ts(o["ordered_at"]), o["status"]] for o in orders],
    )
    write_csv(RAW / "order_items.csv", ["order_id", "line_no", "product_id", "quantity"], items)
    write_ndjson(RAW / "payments.ndjson", payments)
    for old in (RAW / "web_events").glob("events_*.ndjson"):
        old.unlink()
    for month, records in sorted(web_events.items()):
        write_ndjson(RAW / "web_events" / f"events_{month}.ndjson", records)

    n_events = sum(len(r) for r in web_events.values())
    print(
        f"customers={len(customers)} products={len(products)} orders={len(orders)} "
        f"order_items={len(items)} payments={len(payments)} web_events={n_events} "
        f"({len(web_events)} files) -> {RAW.name}/"
    )


if __name__ == "__main__":
    main()
