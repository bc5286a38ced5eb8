"""Agent tables are declared once; arrays, snapshots and Mesa faces all follow the list."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim.agents import Firm, FirmTable, Park, ParkTable, Talent, TalentTable
from tests.conftest import finished, scenario


@pytest.mark.parametrize("table", [FirmTable, TalentTable])
def test_every_declared_column_is_an_array_of_its_type_and_fill(table) -> None:
    t = table(7)
    assert len({c.name for c in table.COLUMNS}) == len(table.COLUMNS)
    for c in table.COLUMNS:
        a = getattr(t, c.name)
        assert a.shape == (7,) and a.dtype == np.dtype(c.dtype), c.name
        assert (a == c.fill).all(), c.name
        assert c.doc, c.name


def _outputs(table) -> list[str]:
    names = []
    for c in table.COLUMNS:
        if c.out is not None:
            names.append(c.out)
            if c.district:
                names.append("district")
    return names


@pytest.mark.parametrize(
    ("table", "face", "attr", "snapshots"),
    [
        (FirmTable, Firm, "firms", "firm_snapshots"),
        (TalentTable, Talent, "talent", "talent_snapshots"),
    ],
)
def test_snapshots_and_faces_show_every_declared_output(table, face, attr, snapshots) -> None:
    m = finished("world=toy", "seed=1")
    last = getattr(m, snapshots)[-1]
    assert list(last.columns) == ["month", table.ID, *_outputs(table)]
    faces = list(m.agents_by_type[face])
    assert faces
    one = faces[len(faces) // 2]
    row = last[last[table.ID] == one.slot].iloc[0]
    for name in _outputs(table):
        value = getattr(one, name)  # a face property per output, read from the table
        expected = row[name]
        if isinstance(expected, float) and np.isnan(expected):
            assert value is None, name
        elif name == "employer":
            assert value == (None if expected < 0 else expected), name
        else:
            assert value == expected, name
    assert getattr(m, attr).faces[one.slot] is one


def test_park_table_follows_its_declared_columns_and_the_world() -> None:
    world = scenario("world=toy").world
    parks = ParkTable(world)
    assert len({c.name for c in ParkTable.COLUMNS}) == len(ParkTable.COLUMNS)
    specs = list(world.parks.values())
    for c in ParkTable.COLUMNS:
        a = getattr(parks, c.name)
        assert a.shape == (len(specs),) and a.dtype == np.dtype(c.dtype), c.name
        assert c.doc, c.name
    assert parks.capacity.tolist() == [p.capacity * world.scale for p in specs]
    assert parks.rent.tolist() == [p.base_rent for p in specs]
    assert [parks.districts[d] for d in parks.district] == [p.district for p in specs]


def test_park_faces_read_every_declared_output_live() -> None:
    m = finished("world=toy", "seed=1")
    faces = list(m.agents_by_type[Park])
    assert len(faces) == len(m.parks)
    for face in faces:
        for c in ParkTable.COLUMNS:
            if c.out is not None:
                assert getattr(face, c.out) == getattr(m.parks, c.name)[face.slot], c.out
    assert faces[0].rent == float(m.parks.rent[0]) and isinstance(faces[0].rent, float)


def test_firm_employment_is_kept_until_staff_sizes_or_operating_firms_change() -> None:
    f = FirmTable(8)
    f.start(np.array([0, 2, 3, 5]))
    f.born[:6] = [0, 0, 0, 1, 0, 1]
    f.set_staff(np.array([0, 2, 3, 5]), np.array([2, 1, 0, 3]))
    f.set_target(np.array([0, 2, 3, 5]), np.array([1.5, 0.4, 2.0, 3.0]))
    w = 10.0
    live, established = f.live(), f.established(1)

    def recount(slots: np.ndarray) -> np.ndarray:
        return np.where(
            f.staff[slots] > 0,
            np.clip(f.target[slots] * w, (f.staff[slots] - 1) * w, f.staff[slots] * w),
            0.0,
        )

    # kept: the same array until a change, and read-only (it is shared)
    assert f.employees(w, live) is f.employees(w, live)
    np.testing.assert_array_equal(f.employees(w, live), recount(live))
    np.testing.assert_array_equal(f.employees(w, established), recount(established))
    with pytest.raises(ValueError):
        f.employees(w, live)[0] = 1.0
    # staff, wanted size and operating status change only through the table's methods
    for column in ("staff", "target", "alive", "park"):
        with pytest.raises(ValueError):
            getattr(f, column)[0] = 1
    # each change is seen at the next question
    f.set_target(np.array([0]), np.array([1.0]))
    np.testing.assert_array_equal(f.employees(w, f.live()), recount(f.live()))
    f.set_staff(np.array([2]), np.array([4]))
    np.testing.assert_array_equal(f.employees(w, f.live()), recount(f.live()))
    f.close(np.array([3]))
    f.start(np.array([1]))
    f.set_staff(np.array([1]), np.array([1]))
    f.set_target(np.array([1]), np.array([0.5]))
    assert f.live().tolist() == [0, 1, 2, 5]
    f.start(np.array([6, 7]))  # after the last operating firm (as entrants are)
    f.start(np.array([3, 4]))  # among them
    f.close(np.array([0, 4, 7]))
    assert f.live().tolist() == [1, 2, 3, 5, 6] == np.flatnonzero(f.alive).tolist()
    assert f.live_kind().tolist() == f.kind[f.live()].tolist()
    f.set_park(f.live(), np.arange(5))
    assert f.live_park().tolist() == [0, 1, 2, 3, 4]
    f.set_park(np.array([2]), 7)  # a move is seen at the next question
    f.close(np.array([1]))
    assert f.live_park().tolist() == [7, 2, 3, 4] == f.park[f.live()].tolist()
    np.testing.assert_array_equal(f.employees(w, f.live()), recount(f.live()))
    np.testing.assert_array_equal(f.employees(w, f.established(1)), recount(f.established(1)))
