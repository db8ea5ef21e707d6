#!/bin/sh
# Writes events_sample.jsonl: one hand-written event of each kind, in the JSON form of
# `events::event`. Line 4 has a JSON decimal price, line 8 a de-DE formatted amount and line 9
# an ambiguous amount ("1,299", no locale) that import keeps with an amount issue.
# Run from this directory: sh make_events_sample.sh
R=$(printf 'salt\0bob@example.com' | sha256sum | cut -c1-32)
cat > events_sample.jsonl <<JSONL
{"id":"e1","event":"view_item","timestamp":"2024-05-01T10:00:00+02:00","user_id":"u1","session_id":"s1","params":{"items":[{"item_id":"sku1","item_name":"Mug","item_category":"Kitchen"}]}}
{"id":"e2","event":"select_item","timestamp":"2024-05-01T10:01:00+02:00","user_id":"u1","session_id":"s1","params":{"items":[{"item_id":"sku2"}]}}
{"id":"e3","event":"search","timestamp":"2024-05-01T10:02:00+02:00","user_id":"u1","session_id":"s1","params":{"search_term":"red mug"}}
{"id":"e4","event":"add_to_cart","timestamp":"2024-05-01T10:03:00+02:00","user_id":"u1","session_id":"s1","params":{"currency":"EUR","items":[{"item_id":"sku1","price":12.99,"quantity":2}]}}
{"id":"e5","event":"remove_from_cart","timestamp":"2024-05-01T10:04:00+02:00","user_id":"u1","session_id":"s1","params":{"currency":"EUR","items":[{"item_id":"sku1","price":1299}]}}
{"id":"e6","event":"begin_checkout","timestamp":"2024-05-01T10:05:00+02:00","user_id":"u1","session_id":"s1","params":{"currency":"EUR","items":[{"item_id":"sku1","price":"12,99 €","quantity":1}],"locale":"de-DE"}}
{"id":"e7","event":"purchase","timestamp":"2024-05-01T10:06:00+02:00","user_id":"u1","session_id":"s1","params":{"transaction_id":"T1","currency":"EUR","items":[{"item_id":"sku1","item_name":"Mug","price":1299,"quantity":1}]}}
{"id":"e8","event":"payment","timestamp":"2024-05-01T10:06:30+02:00","user_id":"u1","session_id":"s1","params":{"transaction_id":"T1","amount":"1.299,00 €","currency":"EUR","method":"card","locale":"de-DE"}}
{"id":"e9","event":"refund","timestamp":"2024-05-03T09:00:00+02:00","user_id":"u1","session_id":"s2","params":{"transaction_id":"T1","currency":"EUR","items":[{"item_id":"sku1","quantity":1}],"amount":"1,299"}}
{"id":"e10","event":"share","timestamp":"2024-05-03T09:10:00+02:00","user_id":"u1","session_id":"s2","params":{"item_id":"sku2","recipient":"r_$R","method":"email"}}
{"id":"e11","event":"gift","timestamp":"2024-05-03T09:20:00+02:00","user_id":"u1","session_id":"s2","params":{"item_id":"sku3","recipient":"r_$R"}}
{"id":"e12","event":"review","timestamp":"2024-05-04T18:00:00Z","session_id":"s3","params":{"item_id":"sku1","text":"Sturdy mug, nice red.","rating":4}}
JSONL
