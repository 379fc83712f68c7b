"""How independent work runs: on this process, on this machine's cores, or on a Dask cluster. Imports nothing of the
package, so every layer above (the chapters' bootstraps, the sensitivity refits, the simulation study) can use it.

- `engine`: independent tasks on several workers, results in task order and independent of the worker count.
"""
