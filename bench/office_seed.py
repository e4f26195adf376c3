#!/usr/bin/env python3
"""Seeds a migrated GovOffice SQLite file with many office documents, fast (bench/office.sh).

    office_seed.py DB [--count 1000000] [--incoming-share 0.8] [--agency 000.00.00.H41]
    office_seed.py - --postgres-csv DIR [...]   the same rows as a CSV for psql's \\copy (PostgreSQL)

Rows go straight into office_documents with Python's sqlite3 (executemany in transactions of
50,000 rows, PRAGMA synchronous=OFF and journal_mode=OFF for the seed only; the file is switched
back to WAL at the end). The FTS5 triggers of the table fill office_documents_fts as the app's own
inserts do. The values are stored as Fluent stores them on SQLite (the layout is read from the
file: ids as upper-case UUID text like the `users` table's, timestamps as REAL seconds since 1970,
booleans as 0/1), so the server reads these rows as its own.

What is written, for AGENCY (default 000.00.00.H41), created_at spread from 2022-01-01 to an hour
ago, oldest first:
  - incoming (direction 'in', register VBĐ): half from the hub (hub_message_id, edxml_document_id,
    sender code) and half paper; states arrived 10 % (no number yet), registered, assigned,
    processing 10 % each, done 60 %; 1 % secret (their own series); numbers 1..n per
    (register, year, secret), in creation order;
  - outgoing (direction 'out', register VBĐi): sent 85 %, numbered 5 % (numbered), draft and
    approved 5 % each (no number); numbers per (register, year, secret) too;
  - subjects and contents from Vietnamese administrative word lists (a real FTS vocabulary), a
    few rare words (about 1 document in 20,000 each), document numbers like 1234/QĐ-UBND;
  - one office_counters row per series with `last` = its highest number, so registrations
    continue after the seeded numbers ("VBĐ/2026", "VBĐ/2026/mật", "VBĐi/2025", ...).
Python 3 standard library only. Prints one line: rows, seconds, file size.
"""

import argparse
import csv
import os
import random
import sqlite3
import sys
import time
import unicodedata
import uuid
from datetime import datetime, timedelta, timezone

VN = timezone(timedelta(hours=7))

SENDERS = [
    ("000.00.00.G22", "Văn phòng Chính phủ"), ("000.00.00.G01", "Bộ Công an"), ("000.00.00.G03", "Bộ Tài chính"),
    ("000.00.00.G06", "Bộ Giáo dục và Đào tạo"), ("000.00.00.G07", "Bộ Giao thông vận tải"),
    ("000.00.00.G08", "Bộ Kế hoạch và Đầu tư"), ("000.00.00.G09", "Bộ Khoa học và Công nghệ"),
    ("000.00.00.G10", "Bộ Lao động - Thương binh và Xã hội"), ("000.00.00.G11", "Bộ Ngoại giao"),
    ("000.00.00.G12", "Bộ Nội vụ"), ("000.00.00.G13", "Bộ Nông nghiệp và Phát triển nông thôn"),
    ("000.00.00.G14", "Bộ Tư pháp"), ("000.00.00.G15", "Bộ Thông tin và Truyền thông"),
    ("000.00.00.G16", "Bộ Tài nguyên và Môi trường"), ("000.00.00.G17", "Bộ Xây dựng"),
    ("000.00.00.G18", "Bộ Y tế"), ("000.00.00.H37", "UBND Tỉnh Ninh Bình"), ("000.00.00.H40", "UBND Tỉnh Thanh Hóa"),
    ("000.00.00.H42", "UBND Tỉnh Hà Tĩnh"), ("000.00.00.H26", "UBND Thành phố Hà Nội"),
    ("000.00.00.H29", "UBND Thành phố Hồ Chí Minh"), ("000.00.00.H31", "UBND Thành phố Đà Nẵng"),
]
TYPES = [("CV", "Công văn", "UBND-VP"), ("QĐ", "Quyết định", "QĐ-UBND"), ("TB", "Thông báo", "TB-UBND"),
         ("KH", "Kế hoạch", "KH-UBND"), ("BC", "Báo cáo", "BC-UBND"), ("TTr", "Tờ trình", "TTr-UBND"),
         ("CT", "Chỉ thị", "CT-UBND"), ("GM", "Giấy mời", "GM-UBND"), ("HD", "Hướng dẫn", "HD-UBND")]
TOPICS = [
    "phòng chống thiên tai và tìm kiếm cứu nạn", "giải ngân vốn đầu tư công", "cải cách hành chính",
    "chuyển đổi số trong cơ quan nhà nước", "phòng, chống dịch bệnh", "xây dựng nông thôn mới",
    "bảo đảm trật tự an toàn giao thông", "quản lý đất đai và tài nguyên khoáng sản", "thu ngân sách nhà nước",
    "tuyển sinh đầu cấp năm học mới", "bảo hiểm xã hội và bảo hiểm y tế", "phòng cháy, chữa cháy rừng",
    "hỗ trợ doanh nghiệp nhỏ và vừa", "kiểm tra công tác văn thư, lưu trữ", "thi đua, khen thưởng",
    "bầu cử đại biểu Hội đồng nhân dân", "giải quyết khiếu nại, tố cáo của công dân", "an toàn thực phẩm",
    "bảo vệ môi trường lưu vực sông", "quy hoạch sử dụng đất giai đoạn 2021 - 2030", "tinh giản biên chế",
    "đào tạo, bồi dưỡng cán bộ, công chức", "phát triển du lịch cộng đồng", "cấp nước sạch nông thôn",
    "ứng dụng chữ ký số chuyên dùng", "liên thông văn bản điện tử", "dịch vụ công trực tuyến toàn trình",
    "thực hành tiết kiệm, chống lãng phí", "công tác dân tộc và tôn giáo", "chương trình mục tiêu quốc gia giảm nghèo",
]
VERBS = ["Về việc", "V/v", "Về việc triển khai", "Về việc tăng cường", "Về việc báo cáo kết quả",
         "Về việc góp ý dự thảo", "Về việc tổ chức", "Về việc kiểm tra", "Về việc phê duyệt", "Về việc đôn đốc"]
WORDS = ("căn cứ luật tổ chức chính quyền địa phương nghị định thông tư hướng dẫn thực hiện ủy ban nhân dân tỉnh "
         "đề nghị các sở ban ngành huyện thành phố thị xã khẩn trương triển khai nội dung sau đây báo cáo kết quả "
         "trước ngày tháng năm để tổng hợp gửi bộ chính phủ theo quy định hiện hành đồng thời chỉ đạo đơn vị "
         "trực thuộc phối hợp chặt chẽ với cơ quan liên quan bảo đảm tiến độ chất lượng hiệu quả tiết kiệm "
         "trong quá trình nếu có khó khăn vướng mắc phản ánh về văn phòng xem xét giải quyết kịp thời "
         "giao sở tài chính chủ trì kế hoạch đầu tư nội vụ tư pháp y tế giáo dục đào tạo công thương xây dựng "
         "giao thông vận tải nông nghiệp phát triển nông thôn tài nguyên môi trường thông tin truyền thông "
         "lao động thương binh xã hội văn hóa thể thao du lịch khoa học công nghệ công an quân sự biên phòng "
         "kinh phí dự toán ngân sách nguồn vốn danh mục dự án công trình hạng mục thẩm định phê duyệt điều chỉnh "
         "người dân doanh nghiệp hồ sơ thủ tục hành chính trực tuyến một cửa liên thông tiếp nhận trả kết quả "
         "kiểm tra giám sát thanh tra xử lý vi phạm nghiêm túc đầy đủ chính xác thời hạn định kỳ đột xuất").split()
RARE = ["sầu riêng", "phốt pho", "khủng long", "thạch sùng", "kỳ lân", "xoài cát", "đà điểu", "san hô",
        "bạch tuộc", "hải quỳ", "khinh khí cầu", "tàu ngầm", "vịnh Hạ Long", "Phong Nha", "Mộc Châu", "Sa Pa",
        "ô xy", "xiêm áo", "guốc mộc", "chuồn chuồn"]


def fold(text):
    """FullTextQuery.indexText: SearchText.fold (lower-case, no accents, đ → d), every run of
    characters that are not letters or digits made one space."""
    out = []
    for ch in unicodedata.normalize("NFD", text.lower()):
        if unicodedata.category(ch) in ("Mn", "Me"):
            continue
        if ch in "đĐðÐ":
            ch = "d"
        out.append(ch if ch.isalnum() else " ")
    return " ".join("".join(out).split())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("db")
    p.add_argument("--count", type=int, default=1_000_000)
    p.add_argument("--incoming-share", type=float, default=0.8)
    p.add_argument("--agency", default="000.00.00.H41")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--postgres-csv", metavar="DIR", help="write DIR/office_documents.csv and DIR/load.sql (psql) "
                   "for PostgreSQL instead of inserting into DB (then DB is ignored)")
    a = p.parse_args()
    rnd = random.Random(a.seed)
    t0 = time.monotonic()

    pg = a.postgres_csv
    if pg:
        # PostgreSQL (Fluent): uuid, boolean, timestamptz columns; COPY files instead of inserts.
        os.makedirs(pg, exist_ok=True)
        id_type = "pg"
        csv_file = open(os.path.join(pg, "office_documents.csv"), "w", encoding="utf-8", newline="")
        writer = csv.writer(csv_file)
        con = None
    else:
        con = sqlite3.connect(a.db, isolation_level=None)
        # How this file stores ids and timestamps (Fluent on SQLite): copy what the app wrote.
        id_type, created_type = con.execute("SELECT typeof(id), typeof(created_at) FROM users LIMIT 1").fetchone()
        if id_type not in ("text", "blob") or created_type not in ("real", "integer"):
            sys.exit(f"office_seed.py: unexpected storage in users: id {id_type}, created_at {created_type}")
        if con.execute("SELECT COUNT(*) FROM office_documents WHERE agency_code = ?", (a.agency,)).fetchone()[0]:
            sys.exit(f"office_seed.py: {a.db} has office documents of {a.agency} already")
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-1000000")
        con.execute("PRAGMA temp_store=MEMORY")

    def new_id():
        u = uuid.UUID(int=rnd.getrandbits(128), version=4)
        return str(u) if id_type == "pg" else str(u).upper() if id_type == "text" else u.bytes

    def pg_value(col, v):
        if v is None:
            return ""  # COPY … CSV: an unquoted empty field is NULL
        if col in ("secret", "paper"):
            return "t" if v else "f"
        if col in ("created_at", "updated_at", "sent_at", "done_at"):
            return datetime.fromtimestamp(v, timezone.utc).isoformat()
        return v

    start = datetime(2022, 1, 1, tzinfo=VN).timestamp()
    end = time.time() - 3600
    n = a.count
    step = (end - start) / n
    folded_words = [(w, fold(w)) for w in WORDS]
    rare = [(w, fold(w)) for w in RARE]
    topics = [(t, fold(t)) for t in TOPICS]
    verbs = [(v, fold(v)) for v in VERBS]
    senders = [(c, s, fold(s)) for c, s in SENDERS]
    types = [(c, name, notation, fold(name)) for c, name, notation in TYPES]
    counters = {}  # (direction, register, year, secret) -> last number
    in_states = ["arrived"] * 10 + ["registered"] * 10 + ["assigned"] * 10 + ["processing"] * 10 + ["done"] * 60
    out_states = ["sent"] * 85 + ["numbered"] * 5 + ["draft"] * 5 + ["approved"] * 5
    units = ["TH", "VP"]
    cols = ("id agency_code direction state register_code year reg_number secret code_number code_notation "
            "arrival_date type_code type_name subject content sender_code sender_name signer_name signer_position "
            "competence promulgation_date urgency places recipients paper hub_message_id edxml_document_id "
            "lead_unit deadline specialist created_by approved_by numbered_by sent_at done_at search_text "
            "created_at updated_at").split()
    sql = f"INSERT INTO office_documents ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    batch = []
    written = 0

    def flush():
        nonlocal batch, written
        if pg:
            writer.writerows([pg_value(c, v) for c, v in zip(cols, r)] for r in batch)
        else:
            con.execute("BEGIN")
            con.executemany(sql, batch)
            con.execute("COMMIT")
        written += len(batch)
        batch = []

    for i in range(n):
        created = start + i * step + rnd.random() * step
        when = datetime.fromtimestamp(created, VN)
        year = when.year
        incoming = rnd.random() < a.incoming_share
        secret = rnd.random() < 0.01
        tcode, tname, tnotation, tfold = rnd.choice(types)
        verb, vfold = rnd.choice(verbs)
        topic, topfold = rnd.choice(topics)
        words = rnd.choices(folded_words, k=rnd.randint(18, 45))
        if rnd.random() < 0.001:
            words.insert(rnd.randrange(len(words)), rnd.choice(rare))
        subject = f"{verb} {topic}"
        content = f"{subject}: " + " ".join(w for w, _ in words).capitalize() + "."
        content_fold = f"{vfold} {topfold} " + " ".join(f for _, f in words)
        code_number = str(rnd.randint(1, 3000))
        if incoming:
            direction, register = "in", "VBĐ"
            state = rnd.choice(in_states)
            numbered = state != "arrived"
            sender_code, sender_name, sender_fold = rnd.choice(senders)
            from_hub = rnd.random() < 0.5
            code_notation = tnotation.replace("UBND", "".join(w[0] for w in sender_name.split()[:2]).upper())
        else:
            direction, register = "out", "VBĐi"
            state = rnd.choice(out_states)
            numbered = state in ("numbered", "sent")
            sender_code = sender_name = sender_fold = None
            from_hub = False
            code_notation = tnotation
        reg_number = None
        if numbered:
            key = (direction, register, year, secret)
            reg_number = counters.get(key, 0) + 1
            counters[key] = reg_number
        if not incoming and not numbered:
            code_number = code_notation = None
        display = f"{code_number}/{code_notation}" if code_number else code_notation
        day = when.date().isoformat()
        search = " ".join(x for x in (fold(display) if display else None, str(reg_number) if reg_number else None,
                                      tfold, fold(subject), content_fold,
                                      sender_fold, fold(sender_code) if sender_code else None) if x)
        assigned = incoming and state in ("assigned", "processing", "done")
        row = (
            new_id(), a.agency, direction, state, register, year, reg_number, 1 if secret else 0,
            code_number, code_notation, day if incoming else None, tcode, tname, subject, content,
            sender_code, sender_name, None if incoming else "Nguyễn Văn An", None if incoming else "Chủ tịch",
            None if incoming else "TM. ỦY BAN NHÂN DÂN", (when - timedelta(days=2)).date().isoformat() if incoming else (day if numbered else None),
            1 if rnd.random() < 0.05 else 0, None, "" if incoming else rnd.choice(senders)[0], 0 if from_hub else 1,
            str(uuid.UUID(int=rnd.getrandbits(128), version=4)) if from_hub else None,
            f"{sender_code},{day.replace('-', '/')},{display}" if from_hub else None,
            rnd.choice(units) if assigned else None,
            (when + timedelta(days=15)).date().isoformat() if assigned else None,
            "h41.chuyenvien" if incoming and state in ("processing", "done") else None,
            "h41.vanthu" if (incoming and not from_hub) or not incoming else None,
            "h41.lanhdao" if not incoming and state != "draft" else None,
            "h41.vanthu" if not incoming and numbered else None,
            created + 600 if not incoming and state == "sent" else None,
            created + 86400 * 7 if state == "done" else None,
            search, created, created + 60,
        )
        batch.append(row)
        if len(batch) >= 50_000:
            flush()
            print(f"office_seed.py: {written} rows, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    if batch:
        flush()
    if pg:
        csv_file.close()
        with open(os.path.join(pg, "load.sql"), "w", encoding="utf-8") as f:
            f.write(f"\\copy office_documents ({', '.join(cols)}) FROM '{os.path.abspath(os.path.join(pg, 'office_documents.csv'))}' WITH (FORMAT csv, FORCE_NOT_NULL (recipients))\n")
            for (direction, register, year, secret), last in counters.items():
                series = f"{register}/{year}" + ("/mật" if secret else "")
                f.write(f"INSERT INTO office_counters (agency_code, series, last) VALUES ('{a.agency}', '{series}', {last}) "
                        "ON CONFLICT (agency_code, series) DO UPDATE SET last = GREATEST(office_counters.last, excluded.last);\n")
        print(f"office_seed.py: {written} documents written to {pg}/office_documents.csv (COPY with {pg}/load.sql) "
              f"in {time.monotonic() - t0:.1f} s")
        return
    con.execute("BEGIN")
    for (direction, register, year, secret), last in counters.items():
        series = f"{register}/{year}" + ("/mật" if secret else "")
        con.execute("INSERT INTO office_counters (agency_code, series, last) VALUES (?, ?, ?) "
                    "ON CONFLICT (agency_code, series) DO UPDATE SET last = MAX(last, excluded.last)", (a.agency, series, last))
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    size = os.path.getsize(a.db) / 1e6
    print(f"office_seed.py: {written} documents ({sum(1 for k in counters if k[0] == 'in')} incoming series, "
          f"{len(counters)} series) in {time.monotonic() - t0:.1f} s; {a.db} {size:.0f} MB")


if __name__ == "__main__":
    main()
