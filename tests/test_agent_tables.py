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
