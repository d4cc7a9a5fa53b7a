import Hummingbird
import PodKV
