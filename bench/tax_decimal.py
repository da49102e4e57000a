"""The same slab-tax loop, written by hand in Python with decimal.Decimal (the baseline)."""

from decimal import Decimal


def slab_tax() -> Decimal:
    total = Decimal(0)
    rate = Decimal("0.05")
    threshold = Decimal(300000)
    for i in range(100000):
        income = threshold + i
        tax = (income - threshold) * rate
        total = total + tax
    return total


if __name__ == "__main__":
    print(f"{slab_tax().normalize():f}")
