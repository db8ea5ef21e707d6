#!/bin/sh
# Writes online_retail_sample.csv: the header and 30 real lines of the UCI Online Retail file,
# picked by line number for what the importer must handle:
#   2-8        invoice 536365, 7 lines, customer 17850.0, December (GMT)
#   47         POST (postage, not a product)
#   143        C536379, D (discount, not a product), a cancellation
#   156        C536383, a one-line cancellation (refund)
#   237-239    C536391, a three-line cancellation
#   1445-1447  536544, no CustomerID (anonymous session)
#   2408       536589, no description, negative quantity, price 0.0
#   5673       536865, lowercase stock code 84534b, no CustomerID
#   9304       537197, price 0.0 with a customer
#   13219      537425, description "check", quantity -20 on a sale
#   33578      539263, price 0.0 with a customer
#   157197     550193, PADS at price 0.001 (not a product)
#   209031-209033  555156 and 555157, 2011-06-01 (BST, UTC+1)
#   299984     A563185, an adjustment invoice (adjust bad debt)
#   428261-428262  573416, 2011-10-31 (GMT again after the change)
#   541909-541910  581587, the last lines, 2011-12-09
# Usage: sh make_sample.sh [path/to/onlineretail.csv.gz]
set -eu
GZ=${1:-/work/shared/data/online-retail/onlineretail.csv.gz}
cd "$(dirname "$0")"
zcat "$GZ" | sed -n '1p;2,8p;47p;143p;156p;237,239p;1445,1447p;2408p;5673p;9304p;13219p;33578p;157197p;209031,209033p;299984p;428261,428262p;541909,541910p;541910q' > online_retail_sample.csv
