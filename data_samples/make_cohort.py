"""Regenerate data_samples/cohort.nc, the bundled simulated cohort.

    python data_samples/make_cohort.py

Prints the file's sha256, which must then be recorded in lsmkit/samples.py (SAMPLES["cohort"]).
"""

from pathlib import Path

import lsmkit
from lsmkit.samples import _sha256, pack_recordings

N_PARTICIPANTS, DAYS, SEED = 8, 7, 2024


def main() -> None:
    path = Path(__file__).with_name("cohort.nc")
    cohort = lsmkit.simulate(N_PARTICIPANTS, DAYS, seed=SEED)
    cohort.attrs.update(command="python data_samples/make_cohort.py", lsmkit_version=lsmkit.__version__)
    packed, encoding = pack_recordings(cohort)
    packed.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    print(f"{path}: {path.stat().st_size / 1e6:.2f} MB, sha256 {_sha256(path)}")


if __name__ == "__main__":
    main()
